package io.hupd.machine;

/**
 * The conditions a row of the transition table may put on its event. Each comes with its complement: where an
 * event is guarded, the table has one row for a guard and one for its complement, so exactly one row applies.
 * {@link UpdateMachine} gives each its logic in one exhaustive switch.
 */
public enum TransitionGuard {
    /** The update may run once more before its commit point (attempt limit not reached). */
    ATTEMPTS_LEFT,
    /** The attempt limit is reached. */
    ATTEMPT_LIMIT_REACHED,
    /** After the first boot: the new root is the one that came up ({@link BootCheck}). */
    NEW_OS_CAME_UP,
    /** After the first boot: the bootloader gave up on the new root and booted the old one ({@link BootCheck}). */
    BOOTLOADER_FELL_BACK,
    /** The new OS passed its health checks ({@link HealthFinding}). */
    HEALTHY,
    /** The new OS failed its health checks, or is not the one running ({@link HealthFinding}). */
    UNHEALTHY;

    public TransitionGuard complement() {
        return switch (this) {
            case ATTEMPTS_LEFT -> ATTEMPT_LIMIT_REACHED;
            case ATTEMPT_LIMIT_REACHED -> ATTEMPTS_LEFT;
            case NEW_OS_CAME_UP -> BOOTLOADER_FELL_BACK;
            case BOOTLOADER_FELL_BACK -> NEW_OS_CAME_UP;
            case HEALTHY -> UNHEALTHY;
            case UNHEALTHY -> HEALTHY;
        };
    }

    /** Whether this guard decides on the {@link Finding} of a check rather than on the context. */
    public boolean readsFinding() {
        return switch (this) {
            case ATTEMPTS_LEFT, ATTEMPT_LIMIT_REACHED -> false;
            case NEW_OS_CAME_UP, BOOTLOADER_FELL_BACK, HEALTHY, UNHEALTHY -> true;
        };
    }

    /**
     * The event the journal records for the way this guard opens, when it is not the row's own event. The checks
     * after the first boot used to fire these themselves; journals and {@code hupd history} keep the names, so
     * history reads as before and recorded journals replay.
     */
    public UpdateEvent journaledAs() {
        return switch (this) {
            case BOOTLOADER_FELL_BACK -> UpdateEvent.ALTBOOT_DETECTED;
            case UNHEALTHY -> UpdateEvent.UNHEALTHY;
            case ATTEMPTS_LEFT, ATTEMPT_LIMIT_REACHED, NEW_OS_CAME_UP, HEALTHY -> null;
        };
    }

    /** The name the diagrams show: lowerCamelCase of the constant. */
    public String label() {
        return Labels.camel(name());
    }
}
