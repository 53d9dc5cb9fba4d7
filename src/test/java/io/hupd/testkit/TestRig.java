package io.hupd.testkit;

import io.hupd.adapters.sim.DeviceConfig;
import io.hupd.adapters.sim.DeviceCreator;
import io.hupd.adapters.sim.SampleOs;
import io.hupd.adapters.sim.SimDevice;
import io.hupd.device.Device;
import io.hupd.image.authoring.ImageSpec;
import io.hupd.image.fetch.ImageSources;
import io.hupd.image.fsimage.FsImageWriter;
import io.hupd.machine.MachineLimits;
import io.hupd.machine.UpdateState;
import io.hupd.persistence.JournalEntry;
import io.hupd.persistence.StateStore;
import io.hupd.persistence.StoredState;
import io.hupd.ports.Clock;
import io.hupd.ports.Progress;
import io.hupd.runner.StepRegistry;
import io.hupd.runner.UpdateLog;
import io.hupd.runner.UpdateRequest;
import io.hupd.runner.UpdateService;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * A real simulated device (ext4 slots, boot folder, H2 database) with four sample OS images, driven in-process
 * through the update service, with faults injected by wrapping steps.
 */
public final class TestRig {
    public static final String TYPE = "raspberrypi4-64";
    public static final String V1 = "2.113.4";
    public static final String V2 = "2.114.0";
    public static final String BROKEN = "2.115.1";
    public static final String UNBOOTABLE = "2.116.0";

    public final Path root;
    public final Path deviceDir;
    public final SimDevice sim;
    private final Map<String, String> refs;
    public MachineLimits limits = MachineLimits.DEFAULT;
    /** Wraps the step registry of every service the rig makes (fault injection). */
    public UnaryOperator<StepRegistry> steps = UnaryOperator.identity();
    /** Wraps the ports of every service the rig makes (side-effect counting and crashes). */
    public UnaryOperator<Device> devices = UnaryOperator.identity();
    public final ByteArrayOutputStream output = new ByteArrayOutputStream();
    /** The H2 file-system scheme hupd's database is opened with (a power-cut layer in some tests). */
    public String h2Scheme = "file:";

    private TestRig(Path root, Path deviceDir, SimDevice sim, Map<String, String> refs) {
        this.root = root;
        this.deviceDir = deviceDir;
        this.sim = sim;
        this.refs = refs;
    }

    /** How the update's target, {@link #V2}, is packed: the fault suites run on both kinds. */
    public enum ImageKind { TAR_LAYER, FILESYSTEM_IMAGE }

    /** Small enough to keep the fault suites quick, large enough for an ext4 journal and the sample tree. */
    static final long FS_IMAGE_BYTES = 8L << 20;

    public static TestRig create(Path tmp, String bootloader) throws IOException {
        return create(tmp, bootloader, UnaryOperator.identity());
    }

    /** A rig whose {@link #V2} is a filesystem-image image (an ext4 layer streamed into the slot) when asked. */
    public static TestRig create(Path tmp, String bootloader, ImageKind kind) throws IOException {
        TestRig rig = create(tmp, bootloader);
        if (kind == ImageKind.FILESYSTEM_IMAGE) {
            Path layout = tmp.resolve("images");
            String tag = V2 + "-ext4";
            FsImageWriter.write(tmp.resolve("src").resolve("rootfs-" + V2),
                    new ImageSpec(V2, TYPE, "arm64", Optional.of("14.1.0")), layout, tag, FS_IMAGE_BYTES);
            Map<String, String> refs = new java.util.HashMap<>(rig.refs);
            refs.put(V2, "oci:" + layout + ":" + tag);
            return new TestRig(rig.root, rig.deviceDir, rig.sim, Map.copyOf(refs));
        }
        return rig;
    }

    /** A rig whose device.json is edited after {@code hupd device create} (boot-file policy, check time limit…). */
    public static TestRig create(Path tmp, String bootloader, UnaryOperator<DeviceConfig> edit) throws IOException {
        Path layout = tmp.resolve("images");
        Path src = tmp.resolve("src");
        Map<String, String> refs = Map.of(
                V1, SampleOs.image(src, layout, TYPE, "arm64", V1, "14.0.0", SampleOs.Flaw.NONE),
                V2, SampleOs.image(src, layout, TYPE, "arm64", V2, "14.1.0", SampleOs.Flaw.NONE),
                BROKEN, SampleOs.image(src, layout, TYPE, "arm64", BROKEN, "14.1.0", SampleOs.Flaw.BROKEN_ENGINE),
                UNBOOTABLE, SampleOs.image(src, layout, TYPE, "arm64", UNBOOTABLE, "14.1.0",
                        SampleOs.Flaw.UNBOOTABLE));
        Path dev = tmp.resolve("device");
        SimDevice sim = DeviceCreator.create(dev, refs.get(V1), new DeviceCreator.Options(null, bootloader, "16M",
                "4M", null, "online", "0ms", "20ms", 2, null), ImageSources::open, Progress.NONE);
        Files.writeString(Files.createDirectories(dev.resolve("data/user")).resolve("notes.txt"), "user data\n");
        DeviceConfig edited = edit.apply(sim.config());
        if (!edited.equals(sim.config())) {
            edited.save(dev);
            sim = SimDevice.open(dev);
        }
        return new TestRig(tmp, dev, sim, refs);
    }

    public String ref(String version) {
        return refs.get(version);
    }

    public Device ports() {
        return devices.apply(sim.ports(Clock.SYSTEM, ImageSources::open));
    }

    /** A copy of this rig's device in another folder (cp -a keeps the sparse slot images cheap). */
    public TestRig copy(Path to) throws Exception {
        Files.createDirectories(to);
        Process p = new ProcessBuilder("cp", "-a", deviceDir.toString(), to.resolve("device").toString())
                .inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IOException("cp -a failed");
        }
        TestRig c = new TestRig(root, to.resolve("device"), SimDevice.open(to.resolve("device")), refs);
        c.limits = limits;
        return c;
    }

    public UpdateService service(Device d) {
        UpdateLog log = new UpdateLog(new PrintStream(output, true, StandardCharsets.UTF_8), Progress.NONE);
        return new UpdateService(d, sim.dataDir(), limits, log, steps.apply(new StepRegistry(d)))
                .withStoreScheme(h2Scheme);
    }

    public UpdateRequest request(String version) {
        return new UpdateRequest(version, List.of(ref(version)), null, true, true);
    }

    /** Runs {@code hupd update} in-process; returns the state it stopped in. */
    public UpdateState update(String version) throws Exception {
        return service(ports()).update(request(version));
    }

    /** One power-on; returns the booted slot or null after a watchdog reset. Reboot requests end it. */
    public String powerOn() throws Exception {
        SimDevice.PowerOn on = sim.powerOn();
        if (!on.osUp()) {
            return null;
        }
        Device d = ports();
        service(d).onPowerOn();
        return on.slot();
    }

    /** Power-ons until no update is in flight and no reboot is pending; fails after 25. */
    public int powerOnUntilSettled() throws Exception {
        for (int i = 1; i <= 25; i++) {
            SimDevice.PowerOn on = sim.powerOn();
            if (!on.osUp()) {
                continue;
            }
            Device d = ports();
            UpdateState s = service(d).onPowerOn();
            if (!d.power().rebootRequested() && !s.inFlight()) {
                return i;
            }
        }
        throw new AssertionError("the device did not settle after 25 power-ons; state " + state());
    }

    public StateStore store() {
        return new StateStore(sim.dataDir().resolve("hupd"));
    }

    public String state() throws IOException {
        return store().load().map(StoredState::stateName).orElse("IDLE");
    }

    public List<JournalEntry> journal() throws IOException {
        return store().journal(null);
    }

    /** "FROM -EVENT-> TO" for each persisted transition, in order. */
    public List<String> trace() throws IOException {
        List<String> out = new ArrayList<>();
        for (JournalEntry e : journal()) {
            out.add(e.from() + " -" + e.event() + "-> " + e.to());
        }
        return out;
    }

    public String runningVersion() throws IOException {
        return ports().slots().osRelease(sim.bootedSlot()).get("VERSION_ID");
    }

    public String output() {
        return output.toString(StandardCharsets.UTF_8);
    }
}
