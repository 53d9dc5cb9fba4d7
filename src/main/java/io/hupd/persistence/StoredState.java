package io.hupd.persistence;

import io.hupd.machine.Phase;
import io.hupd.machine.UpdateContext;

/**
 * The persisted state row as stored: the state is a raw name because the database may have been written by a
 * newer hupd that knows states this one does not.
 */
public record StoredState(String stateName, Phase phase, UpdateContext context) {}
