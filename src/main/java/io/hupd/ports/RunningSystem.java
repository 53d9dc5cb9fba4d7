package io.hupd.ports;

import java.io.IOException;

/** What the running OS knows about itself. */
public interface RunningSystem {
    boolean vpnOnline() throws IOException;
}
