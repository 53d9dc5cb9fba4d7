package io.hupd.adapters.linux;

import io.hupd.adapters.bootloader.UBootTextEnv;
import io.hupd.adapters.fs.BootDirectory;
import io.hupd.adapters.fs.StateDirectory;
import io.hupd.adapters.hw.HealthCheckFolder;
import io.hupd.adapters.linux.BlockDevices.Mount;
import io.hupd.adapters.linux.BlockDevices.Partition;
import io.hupd.device.Device;
import io.hupd.domain.Slot;
import io.hupd.health.HealthCheck;
import io.hupd.image.fetch.ImageSourceFactory;
import io.hupd.ports.BootFilePolicy;
import io.hupd.ports.BootPartition;
import io.hupd.ports.BootSettings;
import io.hupd.ports.Bootloader;
import io.hupd.ports.Clock;
import io.hupd.ports.DataPartition;
import io.hupd.ports.StatePartition;
import io.hupd.ports.Supervisor;
import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A real device as its config file describes it: partitions found by PARTLABEL/PARTUUID, the running root told
 * by the kernel command line and the mount of {@code /}, the state and data partitions used where the OS mounted
 * them (after checking that the mounted device is the configured partition), the bootloader settings through its
 * tools, the supervisor and the reboot through systemctl. {@link #open} checks all of that before any command
 * acts, so a wrong config changes nothing.
 */
public final class RealDevice {
    /** The running root and how it was told. */
    public record Running(String slot, String how) {}

    private final RealDeviceConfig config;
    private final Map<String, Partition> partitions;
    private final Path trustDir;

    private RealDevice(RealDeviceConfig config, Map<String, Partition> partitions, Path trustDir) {
        this.config = config;
        this.partitions = partitions;
        this.trustDir = trustDir;
    }

    /** The trust store (keys, revocations, policy, registry CAs: docs/trust.md) beside the config: /etc/hupd/trust. */
    public Path trustDir() {
        return trustDir;
    }

    /** Reads the config, finds the partitions and checks the state and data mounts; one-line errors otherwise. */
    public static RealDevice open(Path configFile) throws IOException {
        RealDeviceConfig config = RealDeviceConfig.load(configFile);
        List<Partition> all = BlockDevices.partitions();
        Map<String, Partition> found = new LinkedHashMap<>();
        for (String role : RealDeviceConfig.ROLES) {
            found.put(role, BlockDevices.resolve(role, config.partitions().get(role), all));
        }
        RealDevice d = new RealDevice(config, found, configFile.toAbsolutePath().resolveSibling("trust"));
        d.checkMount("state", config.stateMount());
        d.checkMount("data", config.dataMount());
        return d;
    }

    private void checkMount(String role, Path mountPoint) throws IOException {
        Partition p = partition(role);
        Optional<Mount> m = mounts().stream().filter(x -> x.mountPoint().equals(mountPoint))
                .reduce((a, b) -> b); // the last mount on a folder is the one in effect
        if (m.isEmpty()) {
            throw new UserInputException("the " + role + " partition (" + p.node() + ") is not mounted on "
                    + mountPoint + " (" + config.file() + " mounts." + role + "): the OS mounts it before hupd runs");
        }
        if (!m.get().devno().equals(p.devno())) {
            throw new UserInputException(mountPoint + " is mounted from " + m.get().source() + " (" + m.get().devno()
                    + "), not from the " + role + " partition " + p.node() + " (" + config.partitions().get(role)
                    + ", " + p.devno() + ")");
        }
    }

    public RealDeviceConfig config() {
        return config;
    }

    public Path dataDir() {
        return config.dataMount();
    }

    Partition partition(String role) {
        return partitions.get(role);
    }

    List<Mount> mounts() throws IOException {
        return BlockDevices.mounts(config.mountInfo());
    }

    /**
     * The running root: the kernel command line's {@code root=} (PARTUUID=, PARTLABEL= or a node) and the device
     * mounted on {@code /}, each matched against root A and B. When both name a root they must agree.
     */
    public Running running() throws IOException {
        String cmdline = Files.readString(config.kernelCmdline());
        Optional<String> rootArg = BlockDevices.rootArgument(cmdline);
        String byCmdline = null;
        String cmdlineWhy = "the kernel command line (" + config.kernelCmdline() + ") has no root=";
        if (rootArg.isPresent()) {
            Optional<Partition> p = BlockDevices.rootNamed(rootArg.get(), List.of(partition("rootA"),
                    partition("rootB")));
            byCmdline = p.map(this::slotOf).orElse(null);
            cmdlineWhy = "root=" + rootArg.get() + (p.isPresent() ? " is root " + byCmdline + " (" + p.get().node()
                    + ")" : " names neither root A nor root B");
        }
        String byMount = null;
        Optional<Mount> slash = mounts().stream().filter(m -> m.mountPoint().toString().equals("/"))
                .reduce((a, b) -> b);
        String mountWhy = slash.map(m -> "/ is mounted from " + m.source() + " (" + m.devno() + ")")
                .orElse("/ is not in " + config.mountInfo());
        if (slash.isPresent()) {
            for (Slot s : Slot.values()) {
                String slot = s.name();
                if (partition("root" + slot).devno().equals(slash.get().devno())) {
                    byMount = slot;
                    mountWhy += ", root " + slot;
                }
            }
            if (byMount == null) {
                mountWhy += ", neither root";
            }
        }
        if (byCmdline != null && byMount != null && !byCmdline.equals(byMount)) {
            throw new IOException("cannot tell the running root: " + cmdlineWhy + " but " + mountWhy);
        }
        String slot = byCmdline != null ? byCmdline : byMount;
        if (slot == null) {
            throw new IOException("cannot tell the running root: " + cmdlineWhy + "; " + mountWhy);
        }
        return new Running(slot, cmdlineWhy + "; " + mountWhy);
    }

    private String slotOf(Partition p) {
        return p.equals(partition("root" + Slot.A.name())) ? Slot.A.name() : Slot.B.name();
    }

    /** Where the OS mounted the boot partition, if it did. */
    Optional<Path> bootMount() throws IOException {
        return BlockDevices.mountsOf(partition("boot"), mounts()).stream().map(Mount::mountPoint).findFirst();
    }

    private Path scratch(String name) {
        return dataDir().resolve("hupd").resolve(name);
    }

    public Bootloader bootloader() throws IOException {
        int limit = config.bootLimit();
        Optional<Path> mount = bootMount();
        FatPartition fat = new FatPartition(partition("boot").node());
        Bootloader b = switch (config.bootloader()) {
            case "uboot-env" -> new RealBootloaders.FwEnv(config.fwEnvConfig(), limit);
            case "grub" -> mount.isPresent()
                    ? new RealBootloaders.GrubEditenv(mount.get().resolve(config.grubenv()), limit)
                    : new RealBootloaders.Mirrored(fat, List.of(config.grubenv()),
                            d -> new RealBootloaders.GrubEditenv(d.resolve(config.grubenv()), limit),
                            scratch("boot-settings"));
            default -> mount.isPresent() ? new UBootTextEnv(mount.get())
                    : new RealBootloaders.Mirrored(fat, List.of("resinOS_uEnv.txt", "bootcount.env", "extra_uEnv.txt"),
                            UBootTextEnv::new, scratch("boot-settings"));
        };
        return RealBootloaders.withLimit(b, limit);
    }

    BootPartition bootPartition() throws IOException {
        Optional<Path> mount = bootMount();
        long size = partition("boot").sizeBytes();
        return mount.isPresent() ? new BootDirectory(mount.get(), () -> size)
                : new MirroredBootPartition(new FatPartition(partition("boot").node()), size, scratch("boot-mirror"));
    }

    public StatePartition state() {
        return new StateDirectory(config.stateMount());
    }

    Systemctl systemctl() {
        return new Systemctl(config.systemctl());
    }

    public Supervisor supervisor() {
        return new Systemctl.UnitSupervisor(systemctl(), config.supervisorUnit(),
                dataDir().resolve("supervisor/version"));
    }

    /** The device's ports, for one hupd process. */
    public Device ports(Clock clock, ImageSourceFactory images) throws IOException {
        DataPartition data = new DataPartition() {
            @Override
            public Path blobCache() {
                return scratch("cache");
            }

            @Override
            public Path workDir(String updateId) {
                return scratch("work").resolve(updateId);
            }

            @Override
            public Path bootBackupDir(String updateId) {
                return scratch("boot-backup").resolve(updateId);
            }

            @Override
            public long freeBytes() throws IOException {
                return Files.getFileStore(dataDir()).getUsableSpace();
            }
        };
        Supervisor supervisor = supervisor();
        return new Device(config.deviceType(), config.architecture(), BootFilePolicy.BALENA, config.healthPolicy(),
                bootloader(), new BlockSlots(this), bootPartition(), state(), data, supervisor, () -> false,
                new Systemctl.SystemdPower(systemctl(), config.rebootTimeout(), clock),
                vpnWasOnline -> healthChecks(supervisor), images, clock);
    }

    private List<HealthCheck> healthChecks(Supervisor supervisor) throws IOException {
        List<HealthCheck> checks = new ArrayList<>();
        checks.add(new HealthCheck() {
            @Override
            public String name() {
                return "supervisor (" + config.supervisorUnit() + ")";
            }

            @Override
            public Kind kind() {
                return Kind.REQUIRED;
            }

            @Override
            public Result run() throws Exception {
                return supervisor.isRunning() ? Result.pass(config.supervisorUnit() + " is active")
                        : Result.fail(config.supervisorUnit() + " is not active");
            }
        });
        if (config.healthChecks() != null) {
            checks.addAll(HealthCheckFolder.checks(config.healthChecks()));
        }
        return checks;
    }

    /**
     * An orderly shutdown: during a trial (the rollback-altboot breadcrumb is there) the trial count goes back to
     * 0, so that a clean reboot is not counted as a failed boot. Returns what it did.
     */
    public String cleanShutdown() throws IOException {
        if (!state().has(StatePartition.ALTBOOT_BREADCRUMB)) {
            return "no trial boot in progress: nothing to do";
        }
        Bootloader bl = bootloader();
        BootSettings s = bl.read();
        if (s.bootcount() == 0) {
            return "trial boot in progress, bootcount already 0";
        }
        bl.write(s.withBootcount(0));
        return "trial boot in progress: bootcount " + s.bootcount() + " reset to 0";
    }

    /** What {@code hupd device check} prints: the partitions, the running root and how it is known, the rest. */
    public Map<String, Object> check() throws IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("config", config.file().toString());
        out.put("deviceType", config.deviceType());
        out.put("architecture", config.architecture());
        List<Mount> mounts = mounts();
        Map<String, Object> parts = new LinkedHashMap<>();
        for (String role : RealDeviceConfig.ROLES) {
            Partition p = partition(role);
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("by", config.partitions().get(role).toString());
            e.put("node", p.node().toString());
            e.put("number", p.number());
            e.put("partlabel", p.partlabel());
            e.put("partuuid", p.partuuid());
            e.put("sizeBytes", p.sizeBytes());
            e.put("mountedOn", BlockDevices.mountsOf(p, mounts).stream().map(m -> m.mountPoint().toString()).toList());
            parts.put(role, e);
        }
        out.put("partitions", parts);
        Running r = running();
        out.put("running", Map.of("slot", r.slot(), "how", r.how()));
        Map<String, Object> bl = new LinkedHashMap<>();
        bl.put("flavour", config.bootloader());
        Optional<Path> mount = bootMount();
        bl.put("via", config.bootloader().equals("uboot-env") ? "fw_printenv -c " + config.fwEnvConfig()
                : mount.map(m -> "the mounted boot partition " + m).orElse("mtools on " + partition("boot").node()));
        Bootloader b = bootloader();
        BootSettings s = b.read();
        bl.put("rootPartition", s.rootPart());
        bl.put("rootSlot", new BlockSlots(this).slotOfPartition(s.rootPart()).orElse(null));
        bl.put("upgradeAvailable", s.upgradeAvailable());
        bl.put("bootcount", s.bootcount());
        bl.put("bootLimit", config.bootLimit());
        out.put("bootloader", bl);
        Systemctl sc = systemctl();
        out.put("supervisor", Map.of("unit", config.supervisorUnit(), "state", sc.state(config.supervisorUnit())));
        return out;
    }
}
