package io.hupd.machine;

/**
 * Where a state stands relative to the commit point (the boot-settings switch). Stored next to the state name so
 * that a hupd that does not know a state (written by a newer hupd before a rollback) still knows what is safe.
 */
public enum Phase {
    /** No update in flight. */
    IDLE,
    /** Before the switch: the device still boots its old OS; recovery resumes or reverts. */
    BEFORE_COMMIT,
    /** After the switch: the next boot tries the new OS; recovery continues with boot verification. */
    AFTER_COMMIT,
    /** The update ended (committed, rolled back or failed). */
    DONE
}
