package io.hupd.adapters.sim;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.hupd.adapters.bootloader.Bootloaders;
import io.hupd.adapters.fs.BootDirectory;
import io.hupd.adapters.fs.RollForwardFiles;
import io.hupd.adapters.fs.StateDirectory;
import io.hupd.device.Device;
import io.hupd.domain.Slot;
import io.hupd.fs.AtomicFiles;
import io.hupd.fs.BoundedFiles;
import io.hupd.image.fetch.ImageSourceFactory;
import io.hupd.ports.BootSettings;
import io.hupd.ports.Bootloader;
import io.hupd.ports.Clock;
import io.hupd.ports.DataPartition;
import io.hupd.ports.Power;
import io.hupd.ports.RunningSystem;
import io.hupd.ports.StatePartition;
import io.hupd.ports.Supervisor;
import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A device in a folder (CLI.md): {@code device.json}, {@code boot/}, {@code rootA.img}, {@code rootB.img},
 * {@code state/}, {@code data/}, and {@code run/} — what the running OS shows (booted slot, supervisor, VPN,
 * user app), rewritten at every power-on like a tmpfs.
 */
public final class SimDevice {
    static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .enable(SerializationFeature.INDENT_OUTPUT);

    /** What one power-on came to. */
    public record PowerOn(boolean osUp, String slot, String detail) {}

    private final Path dir;
    private final DeviceConfig config;

    private SimDevice(Path dir, DeviceConfig config) {
        this.dir = dir;
        this.config = config;
    }

    public static boolean isDevice(Path dir) {
        return Files.isRegularFile(dir.resolve("device.json"));
    }

    public static SimDevice open(Path dir) {
        Path json = dir.resolve("device.json");
        if (!Files.isRegularFile(json)) {
            throw new UserInputException(dir + " is not a simulated device (no device.json): make one with"
                    + " 'hupd device create'");
        }
        DeviceConfig config;
        try {
            config = JSON.readValue(BoundedFiles.read(json, BoundedFiles.DOCUMENT), DeviceConfig.class);
        } catch (BoundedFiles.TooLarge e) {
            throw new UserInputException(e.getMessage());
        } catch (IOException e) {
            throw new UserInputException(json + " does not parse: " + e.getMessage().split("\n")[0]);
        }
        config.bootFilePolicy(); // a bad bootFiles section is refused on opening, before any command acts
        return new SimDevice(dir, config);
    }

    static SimDevice createLayout(Path dir, DeviceConfig config) throws IOException {
        for (String sub : new String[] {"boot", "state", "data/hupd", "data/balenahup", "run"}) {
            Files.createDirectories(dir.resolve(sub));
        }
        AtomicFiles.write(dir.resolve("device.json"), JSON.writeValueAsBytes(config));
        return new SimDevice(dir, config);
    }

    public Path dir() {
        return dir;
    }

    public DeviceConfig config() {
        return config;
    }

    public Path bootDir() {
        return dir.resolve("boot");
    }

    /** The trust store (docs/trust.md): signing keys, revocations, the signature policy, registry CAs. */
    public Path trustDir() {
        return dir.resolve("trust");
    }

    public Path stateDir() {
        return dir.resolve("state");
    }

    public Path dataDir() {
        return dir.resolve("data");
    }

    public Path runDir() {
        return dir.resolve("run");
    }

    public Ext4Image image(String slot) {
        return new Ext4Image(dir.resolve("root" + slot + ".img"));
    }

    public Bootloader bootloader() {
        return Bootloaders.open(config.bootloader(), bootDir());
    }

    public StatePartition state() {
        return new StateDirectory(stateDir());
    }

    /** The slot the running OS booted from (run/booted-slot, written at power-on). */
    public String bootedSlot() throws IOException {
        String s = readRun("booted-slot").orElse("");
        if (Slot.named(s).isEmpty()) {
            throw new IOException("the simulated device has not booted (run/booted-slot is missing): run 'hupd boot'");
        }
        return s;
    }

    public boolean poweredOn() {
        return readRun("power").map("on"::equals).orElse(false);
    }

    /**
     * One power-on: the firmware picks a root by the bootloader's own rules; a root that does not boot makes the
     * watchdog reset the device (the power-on ends with no OS); otherwise the OS starts its services.
     */
    public PowerOn powerOn() throws IOException {
        int part;
        try {
            part = SimFirmware.selectRoot(bootloader());
        } catch (IOException e) {
            writeRun("power", "reset: the bootloader cannot read its settings (" + e.getMessage() + ")");
            return new PowerOn(false, null, "bootloader settings unreadable: " + e.getMessage());
        }
        int boots = Integer.parseInt(readRun("boot-count").orElse("0").strip()) + 1;
        writeRun("boot-count", Integer.toString(boots));
        Optional<String> slot = new SimSlots(this).slotOfPartition(part);
        if (slot.isEmpty()) {
            writeRun("power", "reset: partition " + part + " is not a root");
            return new PowerOn(false, null, "the bootloader chose partition " + part + ", which is not a root");
        }
        String why = whyNotBootable(slot.get());
        if (why != null) {
            Files.deleteIfExists(runDir().resolve("booted-slot"));
            writeRun("power", "reset: root " + slot.get() + " does not boot (" + why + ")");
            return new PowerOn(false, slot.get(), "root " + slot.get() + " does not boot (" + why
                    + "): the watchdog resets the device");
        }
        // Userspace is up and mounts the boot partition: like balena's fatrw on its first read, finish or drop
        // what a power cut interrupted. The firmware above read the partition as it was, as a real one would.
        RollForwardFiles.Recovery recovery = RollForwardFiles.recover(bootDir());
        writeRun("booted-slot", slot.get());
        writeRun("supervisor", new SimSupervisor(this).version().isPresent() ? "running"
                : SimHealthChecks.NOT_INSTALLED);
        writeRun("vpn", config.vpnOnline() ? "online" : "offline");
        writeRun("user-app", "running");
        writeRun("power", "on");
        return new PowerOn(true, slot.get(), "booted root " + slot.get() + (recovery.isEmpty() ? ""
                : " (boot partition: completed " + recovery.rolledForward() + ", removed " + recovery.removed()
                        + " after an interrupted write)"));
    }

    /** A clean shutdown: during a trial, balena's rollback-clear-bootcount resets the count so it is not a failed boot. */
    public void shutdownCleanly(String why) throws IOException {
        StatePartition state = state();
        if (state.has(StatePartition.ALTBOOT_BREADCRUMB)) {
            Bootloader bl = bootloader();
            BootSettings s = bl.read();
            if (s.bootcount() != 0) {
                bl.write(s.withBootcount(0));
            }
        }
        writeRun("power", "off: " + why);
    }

    /**
     * Null when the slot boots; otherwise why not (on the simulated device: no ext4 filesystem a kernel would mount,
     * or no non-empty /boot/init in it). The firmware checks what a kernel checks before it mounts a root (the
     * superblock and the group descriptors), not what e2fsck checks: a full check read every inode table of the
     * slot at every power-on. hupd still runs e2fsck on a slot it wrote before it may switch to it.
     */
    String whyNotBootable(String slot) throws IOException {
        Ext4Image img = image(slot);
        String unmountable = Files.isRegularFile(img.file()) ? img.whyNotMountable() : "no such file";
        if (unmountable != null) {
            return "not a valid ext4 filesystem: " + unmountable;
        }
        Optional<Ext4Image.Entry> init;
        try {
            init = img.stat("/boot/init");
        } catch (IOException e) {
            // a kernel the firmware cannot load from a damaged directory or inode is a root that does not boot
            return "its kernel cannot be read: " + e.getMessage();
        }
        if (init.isEmpty() || init.get().type() != Ext4Image.Type.FILE || init.get().size() == 0) {
            return "no kernel: /boot/init is missing or empty";
        }
        return null;
    }

    /** The device's ports, for one hupd process. */
    public Device ports(Clock clock, ImageSourceFactory images) {
        DataPartition data = new DataPartition() {
            @Override
            public Path blobCache() {
                return dataDir().resolve("hupd/cache");
            }

            @Override
            public Path workDir(String updateId) {
                return dataDir().resolve("hupd/work").resolve(updateId);
            }

            @Override
            public Path bootBackupDir(String updateId) {
                return dataDir().resolve("hupd/boot-backup").resolve(updateId);
            }

            @Override
            public long freeBytes() throws IOException {
                return Files.getFileStore(dataDir()).getUsableSpace();
            }
        };
        RunningSystem system = () -> readRun("vpn").map("online"::equals).orElse(false);
        return new Device(config.deviceType(), config.architecture(), config.bootFilePolicy(),
                config.healthPolicy(), bootloader(), new SimSlots(this),
                new BootDirectory(bootDir(), config::bootSizeBytes), state(), data, new SimSupervisor(this),
                system, new SimPower(this),
                vpnWasOnline -> SimHealthChecks.forBootedRoot(image(bootedSlot()), runDir(), vpnWasOnline),
                images, clock);
    }

    Optional<String> readRun(String name) {
        try {
            Path p = runDir().resolve(name);
            return Files.isRegularFile(p) ? Optional.of(BoundedFiles.readString(p, BoundedFiles.SMALL).strip())
                    : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    void writeRun(String name, String value) throws IOException {
        AtomicFiles.writeString(runDir().resolve(name), value + "\n");
    }

    /** The supervisor: its version is installed in the data partition; whether it runs is in run/. */
    static final class SimSupervisor implements Supervisor {
        private final SimDevice device;

        SimSupervisor(SimDevice device) {
            this.device = device;
        }

        @Override
        public boolean isRunning() {
            return device.readRun("supervisor").map("running"::equals).orElse(false);
        }

        @Override
        public void stop() throws IOException {
            if (version().isEmpty()) {
                return;
            }
            device.writeRun("supervisor", "stopped");
        }

        @Override
        public void start() throws IOException {
            if (version().isPresent()) {
                device.writeRun("supervisor", "running");
            }
        }

        @Override
        public Optional<String> version() throws IOException {
            Path p = device.dataDir().resolve("supervisor/version");
            return Files.isRegularFile(p) ? Optional.of(BoundedFiles.readString(p, BoundedFiles.SMALL).strip()) : Optional.empty();
        }

        @Override
        public void install(String version) throws IOException {
            AtomicFiles.writeString(device.dataDir().resolve("supervisor/version"), version + "\n");
        }
    }

    /** On the simulated device a reboot is a clean shutdown; the next {@code hupd boot} powers it on. */
    static final class SimPower implements Power {
        private final SimDevice device;
        private volatile boolean requested;

        SimPower(SimDevice device) {
            this.device = device;
        }

        @Override
        public void reboot(String why) throws IOException {
            device.shutdownCleanly("reboot: " + why);
            requested = true;
        }

        @Override
        public boolean rebootRequested() {
            return requested;
        }
    }
}
