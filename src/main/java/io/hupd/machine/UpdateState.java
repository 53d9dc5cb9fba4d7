package io.hupd.machine;

/**
 * The states of one update. The names are an on-disk contract (stored as strings in the database and in recorded
 * journals): never rename one, only add.
 */
public enum UpdateState {
    IDLE(Phase.IDLE),

    // SPEC §3, before the commit point.
    LOCKED(Phase.BEFORE_COMMIT),
    PREFLIGHT(Phase.BEFORE_COMMIT),
    STOPPING_SUPERVISOR(Phase.BEFORE_COMMIT),
    FETCHING(Phase.BEFORE_COMMIT),
    WRITING_ROOTFS(Phase.BEFORE_COMMIT),
    UPDATING_BOOT_FILES(Phase.BEFORE_COMMIT),
    UPDATING_SUPERVISOR(Phase.BEFORE_COMMIT),
    ARMING_ROLLBACKS(Phase.BEFORE_COMMIT),
    /** Its one write is the commit point; whether it happened is read back from the boot settings on recovery. */
    SWITCHING_BOOT(Phase.BEFORE_COMMIT),
    REVERTING(Phase.BEFORE_COMMIT),

    // SPEC §3 step 10 and §5, after the commit point.
    REBOOTING(Phase.AFTER_COMMIT),
    CHECKING_ALTBOOT(Phase.AFTER_COMMIT),
    HEALTH_CHECKING(Phase.AFTER_COMMIT),
    COMMITTING(Phase.AFTER_COMMIT),
    ROLLING_BACK_HEALTH(Phase.AFTER_COMMIT),
    ROLLING_BACK_ALTBOOT(Phase.AFTER_COMMIT),

    // Results.
    COMMITTED(Phase.DONE),
    ROLLED_BACK_HEALTH(Phase.DONE),
    ROLLED_BACK_ALTBOOT(Phase.DONE),
    FAILED(Phase.DONE);

    private final Phase phase;

    UpdateState(Phase phase) {
        this.phase = phase;
    }

    public Phase phase() {
        return phase;
    }

    public boolean inFlight() {
        return phase == Phase.BEFORE_COMMIT || phase == Phase.AFTER_COMMIT;
    }
}
