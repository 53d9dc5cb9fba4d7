package io.hupd.machine;

/**
 * One row of the transition table.
 *
 * @param guard name of the guard that must hold, or null
 * @param action name of the action run on the way, or null
 */
public record Transition(UpdateState source, UpdateEvent event, UpdateState target, String guard, String action) {}
