package io.hupd.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.ports.BootSettings;
import io.hupd.testkit.Cli;
import io.hupd.testkit.TestRig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hupd clean-shutdown} on the simulated device: a trial's count goes back to 0, nothing else changes. */
class CleanShutdownTest {
    @TempDir
    Path tmp;

    @Test
    void duringATrialTheCountIsResetAndOutsideOneNothingIsWritten() throws Exception {
        TestRig rig = TestRig.create(tmp, "uboot");
        String dir = rig.deviceDir.toString();
        BootSettings idle = rig.sim.bootloader().read();
        Cli.Run none = Cli.hupd("clean-shutdown", "--device", dir);
        assertEquals(0, none.code(), none.err());
        assertEquals(idle, rig.sim.bootloader().read());

        Cli.ok("update", "--device", dir, "--target-version", TestRig.V2, "--image", rig.ref(TestRig.V2),
                "--no-reboot");
        BootSettings armed = rig.sim.bootloader().read();
        assertTrue(armed.upgradeAvailable());
        rig.sim.bootloader().write(armed.withBootcount(2)); // two trial boots counted by the firmware
        Cli.Run r = Cli.hupd("clean-shutdown", "--device", dir);
        assertEquals(0, r.code(), r.err());
        assertEquals(armed.withBootcount(0), rig.sim.bootloader().read());
        assertFalse(rig.sim.poweredOn(), "the simulated device is off after its shutdown");
    }
}
