package io.hupd.cli;

import io.hupd.adapters.sim.SampleOs;
import io.hupd.image.authoring.ImageSpec;
import io.hupd.image.fsimage.FsImageWriter;
import io.hupd.ports.UserInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The whole story on a fresh simulated device, through hupd's own commands: a good update is committed, an OS
 * whose engine is broken is rolled back by rollback-health, an OS that does not boot by rollback-altboot.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Update a fresh simulated device v1 -> v2 (committed), then try a v3 with a broken engine"
                + " (rollback-health) and a v4 that does not boot (rollback-altboot).")
final class DemoCommand implements Callable<Integer> {
    static final String TYPE = "raspberrypi4-64";
    static final String ARCH = "arm64";

    @Option(names = "--dir", paramLabel = "DIR", description = "where to put the images and the device"
            + " (default: a new temporary folder)") Path dir;
    @Mixin Common.Debug debug;

    @Override
    public Integer call() throws Exception {
        Path work = dir != null ? dir : Files.createTempDirectory("hupd-demo");
        if (Files.exists(work.resolve("device"))) {
            throw new UserInputException(work + " already holds a demo device: give an empty --dir");
        }
        Files.createDirectories(work);
        Path layout = work.resolve("images");
        Path device = work.resolve("device");
        chapter("Building four OS images in " + layout);
        String v1 = SampleOs.image(work.resolve("src"), layout, TYPE, ARCH, "2.113.4", "14.0.0", SampleOs.Flaw.NONE);
        String v2 = SampleOs.image(work.resolve("src"), layout, TYPE, ARCH, "2.114.0", "14.1.0", SampleOs.Flaw.NONE);
        String v3 = SampleOs.image(work.resolve("src"), layout, TYPE, ARCH, "2.115.1", "14.1.0", SampleOs.Flaw.BROKEN_ENGINE);
        String v4 = SampleOs.image(work.resolve("src"), layout, TYPE, ARCH, "2.116.0", "14.1.0", SampleOs.Flaw.UNBOOTABLE);
        System.out.println("  2.113.4 (v1), 2.114.0 (v2), 2.115.1 (v3: engine broken), 2.116.0 (v4: no kernel)");

        chapter("A simulated device running v1 (short health timings, set in device.json)");
        must(Main.run("device", "create", "--dir", device.toString(), "--image", v1, "--root-size", "32M",
                "--boot-size", "8M", "--health-settle", "300ms", "--health-interval", "200ms",
                "--health-count", "3"), "device create");
        Files.writeString(Files.createDirectories(device.resolve("data/user")).resolve("notes.txt"),
                "the user's data: must survive every update and rollback\n");

        chapter("Signing v2, v3 and v4 (hupd image keygen, hupd image sign); the device trusts that key only");
        Path keys = Files.createDirectories(work.resolve("keys"));
        Files.writeString(keys.resolve("passphrase"), "demo passphrase\n");
        String prefix = keys.resolve("release").toString();
        must(Main.run("image", "keygen", "--output-prefix", prefix, "--passphrase-file",
                keys.resolve("passphrase").toString()), "image keygen");
        for (String image : new String[] {v2, v3, v4}) {
            sign(image, prefix, keys);
        }
        Files.copy(Path.of(prefix + ".pub"), Files.createDirectories(device.resolve("trust/keys"))
                .resolve("release.pub"));
        String unsigned = SampleOs.image(work.resolve("src-unsigned"), work.resolve("unsigned"), TYPE, ARCH,
                "2.114.0", "14.1.0", SampleOs.Flaw.NONE);
        chapter("0. An unsigned copy of v2 is refused before anything is fetched");
        int refused = Main.run("update", "--device", device.toString(), "--target-version", "2.114.0", "--image",
                unsigned);
        System.out.println("=> exit " + refused + (refused == Main.FAILED ? "" : "  <-- UNEXPECTED"));

        boolean ok = refused == Main.FAILED;
        ok &= story("1. Update v1 -> v2: the new OS is healthy, so the update is committed", device, v2,
                "2.114.0", "COMMITTED", "2.114.0");
        ok &= story("2. Update v2 -> v3: its container engine is broken; rollback-health puts v2 back", device,
                v3, "2.115.1", "ROLLED_BACK_HEALTH", "2.114.0");
        ok &= story("3. Update v2 -> v4: it never boots; the bootloader falls back and rollback-altboot puts v2"
                + " back", device, v4, "2.116.0", "ROLLED_BACK_ALTBOOT", "2.114.0");

        chapter("Two more OSes as filesystem images (hupd image create --format ext4), signed: 2.117.0 and 2.118.0");
        String v5 = fsImage(work, layout, "2.117.0", "");
        String v6 = fsImage(work, layout, "2.118.0", "a file the new release adds\n");
        sign(v5, prefix, keys);
        sign(v6, prefix, keys);
        ok &= story("4. Update v2 -> 2.117.0, a filesystem image streamed chunk by chunk into the spare slot", device,
                v5, "2.117.0", "COMMITTED", "2.117.0");
        ok &= story("5. Update 2.117.0 -> 2.118.0: only the chunks the running root lacks are fetched", device, v6,
                "2.118.0", "COMMITTED", "2.118.0");

        ok &= Files.readString(device.resolve("data/user/notes.txt")).startsWith("the user's data");
        chapter("Final status (hupd status --device " + device + ")");
        StatusCommand.print(device, true, false);
        System.out.println();
        System.out.println(ok ? "demo finished: every story ended as it should; the device runs 2.118.0"
                : "demo FAILED: a story did not end as expected (see above)");
        System.out.println("see every transition with: hupd history --device " + device);
        return ok ? Main.OK : Main.FAILED;
    }

    private static boolean story(String title, Path device, String image, String target, String result,
            String running) throws Exception {
        chapter(title);
        int code = Main.run("update", "--device", device.toString(), "--target-version", target, "--image", image);
        if (code != Main.OK) {
            System.out.println("  update exited " + code);
            return false;
        }
        System.out.println("-- powering on until the device settles (hupd boot --until-settled)");
        if (!PowerCycle.untilSettled(device, System.out, false)) {
            return false;
        }
        try (Session s = new Session(device, System.out, true)) {
            Map<String, Object> st = StatusReport.collect(s.device, s.store(), s.poweredOn());
            boolean as = result.equals(st.get("lastResult")) && running.equals(st.get("runningVersion"));
            System.out.println("=> " + st.get("lastResult") + ", running " + st.get("runningVersion")
                    + ", " + st.get("bytesFetched") + " bytes fetched"
                    + (st.get("reason") == null ? "" : " (" + st.get("reason") + ")") + (as ? "" : "  <-- UNEXPECTED"));
            return as;
        }
    }

    /** A sample OS packed as a filesystem image of 24 MiB (the demo's slots have 32). */
    private static String fsImage(Path work, Path layout, String version, String added) throws Exception {
        Path root = work.resolve("src").resolve("rootfs-" + version);
        SampleOs.writeRootfs(root, version, "14.1.0", SampleOs.Flaw.NONE);
        if (!added.isEmpty()) {
            Files.writeString(root.resolve("etc/release-notes"), added);
        }
        FsImageWriter.write(root, new ImageSpec(version, TYPE, ARCH, java.util.Optional.of("14.1.0")), layout,
                version, 24L << 20);
        return "oci:" + layout + ":" + version;
    }

    private static void sign(String image, String keyPrefix, Path keys) {
        must(Main.run("image", "sign", "--image", image, "--key", keyPrefix + ".private", "--passphrase-file",
                keys.resolve("passphrase").toString()), "image sign");
    }

    private static void must(int code, String what) {
        if (code != Main.OK) {
            throw new UserInputException(what + " failed (exit " + code + ")");
        }
    }

    private static void chapter(String title) {
        System.out.println();
        System.out.println("== " + title);
    }

}
