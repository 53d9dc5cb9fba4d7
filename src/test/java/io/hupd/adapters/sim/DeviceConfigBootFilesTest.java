package io.hupd.adapters.sim;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.ports.BootFilePolicy;
import io.hupd.ports.UserInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bootFiles section of device.json, as SimDevice.open reads it. */
class DeviceConfigBootFilesTest {
    @TempDir
    Path dir;

    private static final String BASE = "\"format\":1,\"deviceType\":\"raspberrypi4-64\",\"architecture\":\"arm64\","
            + "\"bootloader\":\"uboot\",\"rootSizeBytes\":16777216,\"bootSizeBytes\":4194304,\"vpn\":\"online\","
            + "\"healthSettle\":\"0ms\",\"healthInterval\":\"20ms\",\"healthCount\":2,\"healthCheckTimeout\":\"30s\"";

    private BootFilePolicy open(String bootFiles) throws Exception {
        Files.writeString(dir.resolve("device.json"), "{" + BASE + (bootFiles == null ? "" : ",\"bootFiles\":"
                + bootFiles) + "}");
        return SimDevice.open(dir).config().bootFilePolicy();
    }

    @Test
    void withoutTheSectionItIsBalenasList() throws Exception {
        assertEquals(BootFilePolicy.BALENA, open(null));
    }

    @Test
    void aGivenListReplacesBalenasButConfigJsonStaysKeptBack() throws Exception {
        BootFilePolicy p = open("{\"keepBack\":[\"/cmdline.txt\",\"overlays/a.dtbo\"]}");
        assertTrue(p.neverOverwritten("cmdline.txt"));
        assertTrue(p.neverOverwritten("overlays/a.dtbo"));
        assertTrue(p.neverOverwritten("config.json"));
        assertFalse(p.neverOverwritten("config.txt"), "dropped from the list");
        assertEquals(BootFilePolicy.BALENA.copyIfMissing(), p.copyIfMissing(), "a list left out stays balena's");
        assertTrue(p.neverOverwritten("extra_uEnv.txt"), "copy-if-missing files are never overwritten");
        assertTrue(p.neverOverwritten("resinOS_uEnv.txt"));
    }

    @Test
    void copyIfMissingFilesCountAsKeptBack() throws Exception {
        BootFilePolicy p = open("{\"keepBack\":[],\"copyIfMissing\":[\"user.txt\"]}");
        assertEquals(java.util.Set.of("user.txt"), p.copyIfMissing());
        assertTrue(p.neverOverwritten("user.txt"));
        assertFalse(p.neverOverwritten("extra_uEnv.txt"));
    }

    @Test
    void badEntriesAreRefusedWhenTheDeviceIsOpened() throws Exception {
        for (String bad : new String[] {"\"../etc/passwd\"", "\"a//b\"", "\"\"", "\"overlays/\"", "\"a\\\\b\""}) {
            UserInputException e = assertThrows(UserInputException.class,
                    () -> open("{\"keepBack\":[" + bad + "]}"), bad);
            assertTrue(e.getMessage().contains("is not a path inside the boot partition"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
        UserInputException e = assertThrows(UserInputException.class,
                () -> open("{\"copyIfMissing\":[\"resinOS_uEnv.txt\"]}"));
        assertTrue(e.getMessage().contains("bootloader's own settings file"), e.getMessage());
    }
}
