package io.hupd.machine;

/**
 * What can happen to an update. Steps report outcomes (SUCCEEDED, FAILED, UNHEALTHY, ALTBOOT_DETECTED); the
 * operator asks (START, ABORT); recovery and the boot sequence report the world (RESUME, BOOTED); the loop guard
 * reports LOOP_DETECTED. The machine alone decides what each means in each state.
 */
public enum UpdateEvent {
    START,
    SUCCEEDED,
    FAILED,
    RESUME,
    ABORT,
    LOOP_DETECTED,
    BOOTED,
    ALTBOOT_DETECTED,
    UNHEALTHY
}
