package io.hupd.ports;

import java.io.IOException;

/** Reboots the device. On the simulated device a reboot ends the command; the next {@code hupd boot} is the power-on. */
public interface Power {
    void reboot(String why) throws IOException;

    boolean rebootRequested();
}
