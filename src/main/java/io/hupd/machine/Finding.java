package io.hupd.machine;

/**
 * What a check after the commit point found, handed to the machine with the check's SUCCEEDED: the machine's
 * guards read it and choose the way (SPEC §5), the check itself names no answer.
 */
public sealed interface Finding permits BootCheck, HealthFinding {
    /** Why the new OS is not kept, for the journal and the update's reason; null when nothing is wrong. */
    String problem();
}
