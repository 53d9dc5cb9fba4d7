package io.hupd.cli;

import io.hupd.adapters.sim.DeviceCreator;
import io.hupd.adapters.sim.SimDevice;
import io.hupd.image.ImageSources;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "device", mixinStandardHelpOptions = true, description = "Simulated devices.",
        subcommands = DeviceCommand.Create.class)
final class DeviceCommand implements Runnable {
    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "say what: device create");
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Make a simulated device whose root A runs the OS of an image.")
    static final class Create implements Callable<Integer> {
        @Option(names = "--dir", required = true, paramLabel = "DIR") Path dir;
        @Option(names = "--image", required = true, paramLabel = "REF") String image;
        @Option(names = "--device-type", paramLabel = "T",
                description = "default: the image's device type, else raspberrypi4-64") String deviceType;
        @Option(names = "--bootloader", defaultValue = "uboot", paramLabel = "uboot|grub|uboot-env") String bootloader;
        @Option(names = "--root-size", defaultValue = "256M") String rootSize;
        @Option(names = "--boot-size", defaultValue = "40M") String bootSize;
        @Option(names = "--supervisor-version", paramLabel = "V") String supervisorVersion;
        @Option(names = "--vpn", defaultValue = "online", paramLabel = "online|offline") String vpn;
        @Option(names = "--health-settle", defaultValue = "60s") String healthSettle;
        @Option(names = "--health-interval", defaultValue = "60s") String healthInterval;
        @Option(names = "--health-count", defaultValue = "15") int healthCount;
        @Option(names = "--boot-limit", paramLabel = "N", description = "U-Boot os_bc_lim (default 3)") Integer bootLimit;
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
}
