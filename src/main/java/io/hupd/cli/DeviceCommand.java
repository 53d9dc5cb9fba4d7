package io.hupd.cli;

import io.hupd.adapters.linux.RealDevice;
import io.hupd.adapters.linux.RealDeviceConfig;
import io.hupd.adapters.sim.DeviceCreator;
import io.hupd.adapters.sim.SimDevice;
import io.hupd.image.fetch.ImageSources;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "device", mixinStandardHelpOptions = true,
        description = "Simulated devices (create) and real ones (check).",
        subcommands = {DeviceCommand.Create.class, DeviceCommand.Check.class})
final class DeviceCommand implements Runnable {
    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "say what: device create or device check");
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Make a simulated device whose root A runs the OS of an image.")
    static final class Create implements Callable<Integer> {
        @Option(names = "--dir", required = true, paramLabel = "DIR") Path dir;
        @Option(names = "--image", required = true, paramLabel = "REF",
                converter = OptionFormats.ImageRef.class) String image;
        @Option(names = "--device-type", paramLabel = "T",
                description = "default: the image's device type, else raspberrypi4-64") String deviceType;
        @Option(names = "--bootloader", defaultValue = "uboot", paramLabel = "uboot|grub|uboot-env",
                converter = OptionFormats.Bootloader.class) String bootloader;
        @Option(names = "--root-size", defaultValue = "256M", converter = OptionFormats.Size.class) String rootSize;
        @Option(names = "--boot-size", defaultValue = "40M", converter = OptionFormats.Size.class) String bootSize;
        @Option(names = "--supervisor-version", paramLabel = "V", converter = OptionFormats.Version.class)
        String supervisorVersion;
        @Option(names = "--vpn", defaultValue = "online", paramLabel = "online|offline",
                converter = OptionFormats.Vpn.class) String vpn;
        @Option(names = "--health-settle", defaultValue = "60s", converter = OptionFormats.DurationText.class)
        String healthSettle;
        @Option(names = "--health-interval", defaultValue = "60s", converter = OptionFormats.DurationText.class)
        String healthInterval;
        @Option(names = "--health-count", defaultValue = "15", converter = OptionFormats.PositiveInt.class)
        int healthCount;
        @Option(names = "--boot-limit", paramLabel = "N", description = "U-Boot os_bc_lim (default 3)",
                converter = OptionFormats.BootLimit.class) Integer bootLimit;
        @Mixin Common.Debug debug;

        @Override
        public Integer call() throws Exception {
            SimDevice d = DeviceCreator.create(dir, image, new DeviceCreator.Options(deviceType, bootloader, rootSize,
                    bootSize, supervisorVersion, vpn, healthSettle, healthInterval, healthCount, bootLimit),
                    ImageSources::open, new ConsoleProgress(System.out, false));
            System.out.println("device created in " + dir + ": " + d.config().deviceType() + " ("
                    + d.config().architecture() + ", " + d.config().bootloader() + "), root A runs "
                    + d.image("A").readFile("/etc/os-release", 1 << 16).map(b -> new String(b))
                            .map(io.hupd.steps.OsRelease::parse).map(m -> m.get("VERSION_ID")).orElse("?"));
            return Main.OK;
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = {"What hupd finds on a real device: each partition and its node, which root is running and"
                    + " how that is known, the bootloader settings read back, the supervisor unit's state.",
                    "With --json: {config, deviceType, architecture, partitions: {boot|rootA|rootB|state|data: {by,"
                            + " node, number, partlabel, partuuid, sizeBytes, mountedOn}}, running: {slot, how},"
                            + " bootloader: {flavour, via, rootPartition, rootSlot, upgradeAvailable, bootcount,"
                            + " bootLimit}, supervisor: {unit, state}}."})
    static final class Check implements Callable<Integer> {
        @Option(names = "--device-config", paramLabel = "FILE",
                description = "the device's config (default: /etc/hupd/device.json)") Path config;
        @Option(names = "--json") boolean json;
        @Mixin Common.Debug debug;

        @Override
        public Integer call() throws Exception {
            RealDevice d = RealDevice.open(config != null ? config : RealDeviceConfig.DEFAULT);
            Map<String, Object> r = d.check();
            if (json) {
                System.out.println(Common.JSON.writeValueAsString(r));
                return Main.OK;
            }
            System.out.println("device " + r.get("deviceType") + " (" + r.get("architecture") + "), config "
                    + r.get("config"));
            @SuppressWarnings("unchecked")
            Map<String, Map<String, Object>> parts = (Map<String, Map<String, Object>>) r.get("partitions");
            for (var e : parts.entrySet()) {
                Map<String, Object> p = e.getValue();
                List<?> on = (List<?>) p.get("mountedOn");
                System.out.printf("  %-6s %-40s %s (partition %s, %d MiB)%s%n", e.getKey(), p.get("by"), p.get("node"),
                        p.get("number"), ((Long) p.get("sizeBytes")) >> 20, on.isEmpty() ? ""
                                : ", mounted on " + String.join(", ", on.stream().map(String::valueOf).toList()));
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> run = (Map<String, Object>) r.get("running");
            System.out.println("running root: " + run.get("slot") + " (" + run.get("how") + ")");
            @SuppressWarnings("unchecked")
            Map<String, Object> bl = (Map<String, Object>) r.get("bootloader");
            System.out.println("bootloader " + bl.get("flavour") + " via " + bl.get("via") + ": root partition "
                    + bl.get("rootPartition") + " (root " + bl.get("rootSlot") + "), upgrade_available="
                    + (Boolean.TRUE.equals(bl.get("upgradeAvailable")) ? 1 : 0) + ", bootcount=" + bl.get("bootcount")
                    + ", limit " + bl.get("bootLimit"));
            @SuppressWarnings("unchecked")
            Map<String, Object> sup = (Map<String, Object>) r.get("supervisor");
            System.out.println("supervisor " + sup.get("unit") + ": " + sup.get("state"));
            return Main.OK;
        }
    }
}
