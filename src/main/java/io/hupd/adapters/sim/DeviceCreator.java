package io.hupd.adapters.sim;

import io.hupd.adapters.bootloader.Bootloaders;
import io.hupd.fs.AtomicFiles;
import io.hupd.fs.Trees;
import io.hupd.image.cache.BlobCachePruner;
import io.hupd.image.cache.BlobStore;
import io.hupd.image.fetch.ImageSource;
import io.hupd.image.fetch.ImageSourceFactory;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.rootfs.FlattenLimits;
import io.hupd.image.rootfs.LayerFlattener;
import io.hupd.ports.Progress;
import io.hupd.ports.UserInputException;
import io.hupd.steps.OsRelease;
import io.hupd.steps.OsVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.stream.Stream;

/** {@code hupd device create}: a fresh simulated device whose root A runs the OS of an image. */
public final class DeviceCreator {
    public record Options(String deviceType, String bootloader, String rootSize, String bootSize,
            String supervisorVersion, String vpn, String healthSettle, String healthInterval, int healthCount,
            Integer bootLimit) {}

    private DeviceCreator() {}

    public static SimDevice create(Path dir, String imageRef, Options o, ImageSourceFactory images,
            Progress progress) throws IOException {
        if (Files.exists(dir)) {
            if (!Files.isDirectory(dir)) {
                throw new UserInputException(dir + " exists and is not a folder");
            }
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw new UserInputException(dir + " is not empty: give a new folder for the device");
                }
            }
        }
        if (!Bootloaders.flavours().contains(o.bootloader())) {
            throw new UserInputException("unknown bootloader '" + o.bootloader() + "' (known: "
                    + String.join(", ", Bootloaders.flavours()) + ")");
        }
        if (!"online".equals(o.vpn()) && !"offline".equals(o.vpn())) {
            throw new UserInputException("--vpn takes online or offline, not '" + o.vpn() + "'");
        }
        long rootSize = DeviceConfig.size(o.rootSize());
        long bootSize = DeviceConfig.size(o.bootSize());
        if (rootSize < (8 << 20) || bootSize < (1 << 20)) {
            throw new UserInputException("--root-size must be at least 8M and --boot-size at least 1M");
        }
        DeviceConfig.duration(o.healthSettle());
        DeviceConfig.duration(o.healthInterval());
        if (o.healthCount() < 1) {
            throw new UserInputException("--health-count must be at least 1");
        }
        if (o.bootLimit() != null && (o.bootLimit() < 1 || o.bootLimit() > 100)) {
            throw new UserInputException("--boot-limit must be between 1 and 100");
        }
        if (o.supervisorVersion() != null) {
            OsVersion.parse(o.supervisorVersion());
        }
        ImageSource source = images.open(imageRef);
        ResolvedImage image = source.resolve();

        Path scratch = Files.createTempDirectory("hupd-device-create");
        boolean done = false;
        try {
            BlobStore store = new BlobStore(scratch.resolve("cache"));
            source.fetch(image, store, progress);
            List<Path> blobs = new ArrayList<>();
            List<String> types = new ArrayList<>();
            for (Descriptor d : image.layers()) {
                blobs.add(store.path(d.digest()));
                types.add(d.mediaType());
            }
            Path tree = scratch.resolve("rootfs");
            Files.createDirectories(tree);
            LayerFlattener.flatten(blobs, types, tree, FlattenLimits.DEFAULT);
            Path osRelease = tree.resolve("etc/os-release");
            if (!Files.isRegularFile(osRelease, LinkOption.NOFOLLOW_LINKS)) {
                throw new UserInputException("image " + imageRef + " has no /etc/os-release: it is not an OS image");
            }
            Map<String, String> release = OsRelease.parse(Files.readString(osRelease));
            String version = release.get("VERSION_ID");
            if (version == null) {
                throw new UserInputException("image " + imageRef + " has no VERSION_ID in /etc/os-release");
            }
            String imageType = image.labels() == null ? null : image.labels().get("io.balena.device-type");
            if (imageType == null) {
                imageType = release.get("BALENA_DEVICE_TYPE");
            }
            String type = o.deviceType() != null ? o.deviceType() : imageType != null ? imageType : "raspberrypi4-64";
            if (imageType != null && !imageType.equals(type)) {
                throw new UserInputException("image " + imageRef + " is for device type " + imageType
                        + ", not " + type);
            }
            String arch = image.architecture() != null ? image.architecture() : "arm64";

            DeviceConfig config = new DeviceConfig(1, type, arch, o.bootloader(), rootSize, bootSize, o.vpn(),
                    o.healthSettle(), o.healthInterval(), o.healthCount(), "30s", o.bootLimit());
            SimDevice device = SimDevice.createLayout(dir, config);
            device.image("A").format(tree, "resin-rootA", rootSize);
            device.image("B").formatEmpty("resin-rootB", rootSize);
            Path bootFiles = tree.resolve("resin-boot");
            if (Files.isDirectory(bootFiles, LinkOption.NOFOLLOW_LINKS)) {
                try (Stream<Path> s = Files.walk(bootFiles)) {
                    for (Path p : (Iterable<Path>) s::iterator) {
                        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                            AtomicFiles.write(device.bootDir().resolve(bootFiles.relativize(p).toString()),
                                    Files.readAllBytes(p));
                        }
                    }
                }
            }
            Path configJson = device.bootDir().resolve("config.json");
            if (!Files.exists(configJson)) {
                AtomicFiles.writeString(configJson, "{\"deviceType\":\"" + type + "\"}\n");
            }
            Bootloaders.create(o.bootloader(), device.bootDir(), 2,
                    o.bootLimit() == null ? OptionalInt.empty() : OptionalInt.of(o.bootLimit()));
            SimSlots slots = new SimSlots(device);
            slots.markVerified("A", version);
            slots.markNotBootable("B");
            // The running OS's blobs stay in the data partition's cache, as after an update by hupd: a delta
            // to the next version applies against them (docs/delta.md).
            Path cache = Files.createDirectories(device.dataDir().resolve("hupd/cache/blobs/sha256"));
            for (Descriptor d : image.blobs()) {
                Files.copy(store.path(d.digest()), cache.resolve(d.hex()));
            }
            new BlobCachePruner(device.dataDir().resolve("hupd/cache")).record(image);
            String supervisor = o.supervisorVersion();
            if (supervisor == null) {
                Path conf = tree.resolve("etc/balena-supervisor/supervisor.conf");
                if (Files.isRegularFile(conf, LinkOption.NOFOLLOW_LINKS)) {
                    supervisor = OsRelease.parse(Files.readString(conf)).get("SUPERVISOR_VERSION");
                }
            }
            if (supervisor != null) {
                new SimDevice.SimSupervisor(device).install(supervisor);
            }
            SimDevice.PowerOn on = device.powerOn();
            if (!on.osUp()) {
                throw new UserInputException("image " + imageRef + " does not boot: " + on.detail());
            }
            done = true;
            return device;
        } finally {
            Trees.deleteRecursively(scratch);
            if (!done) {
                // no half-made device: the folder was empty or absent when we began
                Trees.deleteRecursively(dir);
            }
        }
    }
}
