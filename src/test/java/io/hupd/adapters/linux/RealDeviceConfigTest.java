package io.hupd.adapters.linux;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hupd.ports.UserInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every wrong or missing field of a real device's config is refused with one line that names it. */
class RealDeviceConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GOOD = """
            {"format": 1, "deviceType": "genericx86-64", "architecture": "amd64",
             "partitions": {"boot": {"partlabel": "resin-boot"}, "rootA": {"partlabel": "resin-rootA"},
                            "rootB": {"partuuid": "2E5F0B1C-4C6A-4E4B-9E2B-6E3D1F6A7B8C"},
                            "state": {"partlabel": "resin-state"}, "data": {"partlabel": "resin-data"}},
             "bootloader": {"flavour": "grub"}, "bootLimit": 2,
             "supervisor": {"unit": "balena-supervisor.service"},
             "mounts": {"state": "/mnt/state", "data": "/mnt/data"},
             "health": {"settle": "30s", "count": 4}}
            """;

    @TempDir
    Path tmp;

    private static RealDeviceConfig parse(String json) throws Exception {
        return RealDeviceConfig.parse(Path.of("device.json"), JSON.readTree(json));
    }

    @Test
    void aGoodConfigReadsAsWritten() throws Exception {
        RealDeviceConfig c = parse(GOOD);
        assertEquals("grub", c.bootloader());
        assertEquals("EFI/BOOT/grubenv", c.grubenv());
        assertEquals(2, c.bootLimit());
        assertEquals("partuuid", c.partitions().get("rootB").key());
        assertEquals("2e5f0b1c-4c6a-4e4b-9e2b-6e3d1f6a7b8c", c.partitions().get("rootB").value());
        assertEquals("systemctl", c.systemctl());
        assertEquals(Path.of("/proc/cmdline"), c.kernelCmdline());
        assertEquals(4, c.healthPolicy().count());
    }

    /** path: a JSON pointer to the field; value: JSON to put there, or "-" to remove it. */
    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(delimiter = '|', value = {
        "/format|-|format: missing",
        "/format|2|format: 2 is not a format",
        "/deviceType|-|deviceType: missing",
        "/deviceType|\"a b\"|deviceType: 'a b' is not a name",
        "/architecture|7|architecture: must be a non-empty string",
        "/partitions|-|partitions: missing",
        "/partitions/boot|-|partitions.boot: missing",
        "/partitions/rootA|-|partitions.rootA: missing",
        "/partitions/rootB|-|partitions.rootB: missing",
        "/partitions/state|-|partitions.state: missing",
        "/partitions/data|-|partitions.data: missing",
        "/partitions/rootA|\"/dev/sda2\"|never by a device node",
        "/partitions/rootA|{\"partlabel\": \"a\", \"partuuid\": \"b\"}|partitions.rootA: must be exactly one of",
        "/partitions/rootA|{\"label\": \"x\"}|partitions.rootA.label: unknown field",
        "/partitions/rootB|{\"partuuid\": \"not-a-uuid\"}|partitions.rootB.partuuid: 'not-a-uuid' is not a GPT",
        "/partitions/data|{\"partlabel\": \"resin-state\"}|partitions.data: names the same partition as partitions.state",
        "/partitions/swap|{\"partlabel\": \"x\"}|partitions.swap: unknown field",
        "/bootloader|-|bootloader: missing",
        "/bootloader/flavour|\"lilo\"|bootloader.flavour: 'lilo' is not one of",
        "/bootloader/fwEnvConfig|\"/etc/fw_env.config\"|bootloader.fwEnvConfig: applies to the uboot-env flavour only",
        "/bootloader/grubenv|\"../x\"|bootloader.grubenv: '../x' is not a path inside",
        "/bootLimit|0|bootLimit: 0 is not a number of boots",
        "/bootLimit|\"3\"|bootLimit: \"3\" is not a number of boots",
        "/supervisor|-|supervisor: missing",
        "/supervisor/unit|-|supervisor.unit: missing",
        "/supervisor/unit|\"supervisor\"|supervisor.unit: 'supervisor' is not a systemd unit name",
        "/systemctl|\"sudo systemctl\"|systemctl: 'sudo systemctl' is not a command",
        "/rebootTimeout|\"soon\"|rebootTimeout: 'soon' is not a duration",
        "/mounts|-|mounts: missing",
        "/mounts/state|-|mounts.state: missing",
        "/mounts/data|\"mnt/data\"|mounts.data: 'mnt/data' is not an absolute path",
        "/mounts/data|\"/mnt/state\"|mounts.data: is the same folder as mounts.state",
        "/healthChecks|\"health.d\"|healthChecks: 'health.d' is not an absolute path",
        "/health|[]|health: must be an object",
        "/health/count|0|health.count: 0 is not a number of rounds",
        "/health/interval|\"1h\"|health.interval: '1h' is not a duration",
        "/kernelCmdline|\"cmdline\"|kernelCmdline: 'cmdline' is not an absolute path",
        "/mountInfo|\"\"|mountInfo: must be a non-empty string",
        "/bootLimt|3|bootLimt: unknown field",
    })
    void aWrongOrMissingFieldIsNamedInOneLine(String pointer, String value, String words) throws Exception {
        ObjectNode root = (ObjectNode) JSON.readTree(GOOD);
        int cut = pointer.lastIndexOf('/');
        JsonNode parentNode = cut == 0 ? root : root.at(pointer.substring(0, cut));
        ObjectNode parent = (ObjectNode) parentNode;
        String field = pointer.substring(cut + 1);
        if (value.equals("-")) {
            assertNotNull(parent.remove(field), "the good config has " + pointer);
        } else {
            parent.set(field, JSON.readTree(value));
        }
        UserInputException e = assertThrows(UserInputException.class, () -> parse(root.toString()));
        assertTrue(e.getMessage().startsWith("device.json "), e.getMessage());
        assertTrue(e.getMessage().contains(words), "expected '" + words + "' in: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void uBootEnvNeedsAnExistingFwEnvConfig() throws Exception {
        ObjectNode root = (ObjectNode) JSON.readTree(GOOD);
        ((ObjectNode) root.get("bootloader")).put("flavour", "uboot-env");
        UserInputException missing = assertThrows(UserInputException.class, () -> parse(root.toString()));
        assertTrue(missing.getMessage().contains("bootloader.fwEnvConfig: missing"), missing.getMessage());
        ((ObjectNode) root.get("bootloader")).put("fwEnvConfig", tmp.resolve("none").toString());
        UserInputException absent = assertThrows(UserInputException.class, () -> parse(root.toString()));
        assertTrue(absent.getMessage().contains("does not exist"), absent.getMessage());
        Path cfg = Files.writeString(tmp.resolve("fw_env.config"), "/dev/mmcblk0 0x400000 0x4000\n");
        ((ObjectNode) root.get("bootloader")).put("fwEnvConfig", cfg.toString());
        assertEquals(cfg, parse(root.toString()).fwEnvConfig());
    }

    @Test
    void aMissingOrUnparsableFileIsOneLine() throws Exception {
        UserInputException none = assertThrows(UserInputException.class,
                () -> RealDeviceConfig.load(tmp.resolve("device.json")));
        assertTrue(none.getMessage().contains("does not exist"), none.getMessage());
        Path bad = Files.writeString(tmp.resolve("bad.json"), "{\"format\": 1,\n");
        UserInputException garbage = assertThrows(UserInputException.class, () -> RealDeviceConfig.load(bad));
        assertTrue(garbage.getMessage().contains("does not parse as JSON"), garbage.getMessage());
        assertFalse(garbage.getMessage().contains("\n"));
    }

    @Test
    void theKernelsRootArgumentIsTheLastBeforeInitsArguments() {
        assertEquals(Optional.of("PARTUUID=abc"), BlockDevices.rootArgument("root=/dev/sda2 quiet root=PARTUUID=abc"
                + " -- root=/dev/evil"));
        assertEquals(Optional.empty(), BlockDevices.rootArgument("console=ttyS0 rootwait"));
        assertEquals(List.of("boot", "rootA", "rootB", "state", "data"), RealDeviceConfig.ROLES);
    }
}
