package io.hupd.adapters.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hupd.health.HealthPolicy;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The example a user copies to /etc/hupd/device.json (and the package installs) must be a config this hupd reads,
 * with balena's partition names and defaults; it once had comments and field names that hupd refuses.
 */
class ExampleDeviceConfigTest {
    private static final Path EXAMPLE = Path.of(System.getProperty("hupd.repo", "."))
            .resolve("packaging/examples/device.json");

    @Test
    void theExampleLoadsAsARealDeviceConfig() {
        RealDeviceConfig c = RealDeviceConfig.load(EXAMPLE);
        assertEquals("raspberrypi4-64", c.deviceType());
        assertEquals("arm64", c.architecture());
        assertEquals("uboot", c.bootloader());
        assertEquals(3, c.bootLimit());
        assertEquals("balena-supervisor.service", c.supervisorUnit());
        assertEquals(Path.of("/mnt/state"), c.stateMount());
        assertEquals(Path.of("/mnt/data"), c.dataMount());
        for (String role : RealDeviceConfig.ROLES) {
            assertEquals(new RealDeviceConfig.PartitionRef("partlabel", "resin-" + role), c.partitions().get(role));
        }
        assertEquals(new HealthPolicy(Duration.ofSeconds(60), 15, Duration.ofSeconds(60), Duration.ofSeconds(60)),
                c.healthPolicy());
    }
}
