package io.hupd.machine;

/**
 * What can happen to an update. Steps report outcomes (SUCCEEDED, FAILED); the operator asks (START, ABORT);
 * recovery and the boot sequence report the world (RESUME, BOOTED); the loop guard reports LOOP_DETECTED. The
 * machine alone decides what each means in each state. The names are an on-disk contract (journals): never rename.
 */
public enum UpdateEvent {
    START,
    SUCCEEDED,
    FAILED,
    RESUME,
    ABORT,
    LOOP_DETECTED,
    BOOTED,
    /** Never fired: the journal's name for CHECKING_ALTBOOT's SUCCEEDED when the bootloader fell back. */
    ALTBOOT_DETECTED,
    /** Never fired: the journal's name for HEALTH_CHECKING's SUCCEEDED when the new OS is unhealthy. */
    UNHEALTHY
}
