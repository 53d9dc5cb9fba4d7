package io.hupd.adapters.sim;

import io.hupd.image.authoring.ImageSpec;
import io.hupd.image.authoring.OciLayoutWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * Small but complete OS root filesystems for the demo and the tests: a kernel ({@code /boot/init}), the engine
 * and VPN binaries the health checks look at, boot files, a supervisor version — and the ways balena's own
 * rollback tests break an OS.
 */
public final class SampleOs {
    public enum Flaw {
        NONE,
        /** The container engine is a symlink to /dev/null: rollback-health must put the old OS back. */
        BROKEN_ENGINE,
        /** No kernel: the new root never comes up, and rollback-altboot must put the old OS back. */
        UNBOOTABLE,
        /**
         * A required extra health check that never returns ({@code /etc/hupd/health.d/required.d/50-app-ready}
         * says {@code hang}): its time limit must count it as failed and rollback-health must still act.
         */
        HUNG_CHECK,
        /** The same hang, but as a wanted check: it is logged and the update still commits. */
        HUNG_WANTED_CHECK
    }

    private SampleOs() {}

    /** Writes an OS tree for {@code version} into {@code root} (created). */
    public static void writeRootfs(Path root, String version, String supervisorVersion, Flaw flaw) throws IOException {
        Files.createDirectories(root);
        write(root, "boot/init", flaw == Flaw.UNBOOTABLE ? "" : "#!/bin/sh\n# kernel and init of balenaOS " + version + "\n");
        Path engine = root.resolve("usr/bin/balena-engine");
        Files.createDirectories(engine.getParent());
        if (flaw == Flaw.BROKEN_ENGINE) {
            Files.createSymbolicLink(engine, Path.of("/dev/null"));
        } else {
            write(root, "usr/bin/balena-engine", "#!/bin/sh\necho balena-engine " + version + "\n");
            Files.setPosixFilePermissions(engine, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        write(root, "usr/sbin/openvpn", "#!/bin/sh\necho openvpn\n");
        write(root, "usr/bin/rollback-board-healthcheck", "#!/bin/sh\nexit 0\n");
        write(root, "etc/hostname", "balena\n");
        if (flaw == Flaw.HUNG_CHECK || flaw == Flaw.HUNG_WANTED_CHECK) {
            write(root, "etc/hupd/health.d/required.d/10-data-mounted", "pass: /mnt/data is mounted\n");
            write(root, "etc/hupd/health.d/" + (flaw == Flaw.HUNG_CHECK ? "required.d" : "wanted.d")
                    + "/50-app-ready", "#!/bin/sh\n# waits for the app's socket, which never answers\nhang\n");
        }
        if (supervisorVersion != null) {
            write(root, "etc/balena-supervisor/supervisor.conf", "SUPERVISOR_VERSION=" + supervisorVersion + "\n");
        }
        write(root, "resin-boot/Image", "kernel image of " + version + "\n" + "x".repeat(4096) + "\n");
        write(root, "resin-boot/cmdline.txt", "console=serial0,115200 root=LABEL=resin-rootA rootwait\n");
        write(root, "resin-boot/config.txt", "# default config.txt shipped with " + version + "\n");
        write(root, "resin-boot/overlays/balena-fin.dtbo", "device tree overlay " + version + "\n");
        write(root, "resin-boot/os-version", version + "\n");
        Files.createDirectories(root.resolve("var/lib"));
        Files.createSymbolicLink(root.resolve("sbin"), Path.of("usr/sbin"));
    }

    /** Writes the tree and packs it as {@code oci:layout:version}; returns that reference. */
    public static String image(Path work, Path layout, String deviceType, String arch, String version,
            String supervisorVersion, Flaw flaw) throws IOException {
        Path root = work.resolve("rootfs-" + version);
        writeRootfs(root, version, supervisorVersion, flaw);
        OciLayoutWriter.write(root, new ImageSpec(version, deviceType, arch, Optional.ofNullable(supervisorVersion)),
                layout, version);
        return "oci:" + layout + ":" + version;
    }

    private static void write(Path root, String rel, String content) throws IOException {
        Path p = root.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
    }
}
