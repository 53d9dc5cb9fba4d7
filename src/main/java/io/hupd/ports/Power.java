package io.hupd.ports;

import java.io.IOException;

/**
 * Reboots the device. A step only asks for the reboot; the command carries it out when it ends, after the step's
 * transition is persisted and the lock released. A reboot carried out inside the step would stop hupd before it
 * recorded that the step was done, and the next boot would run the step again: a rollback that reboots at every
 * start. On the simulated device a reboot ends the command; the next {@code hupd boot} is the power-on.
 */
public interface Power {
    /** Asks for a reboot; returns at once. */
    void reboot(String why) throws IOException;

    boolean rebootRequested();

    /** Carries out the reboot asked for during this command, if any; called once, when the command ends. */
    default void rebootIfRequested() throws IOException {}
}
