package io.hupd.health;

import java.io.IOException;
import java.util.List;

/** The health checks of the booted OS. */
public interface HealthCheckSource {
    List<HealthCheck> checks(boolean vpnWasOnline) throws IOException;
}
