package io.hupd.ports;

import java.io.IOException;
import java.util.Optional;

/** The device supervisor: stopped during an update so that it cannot reboot the device mid-way. */
public interface Supervisor {
    boolean isRunning() throws IOException;

    void stop() throws IOException;

    void start() throws IOException;

    Optional<String> version() throws IOException;

    /** Installs the given version (the new OS ships it); idempotent. */
    void install(String version) throws IOException;
}
