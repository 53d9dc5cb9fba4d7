package io.hupd.testkit;

import io.hupd.adapters.fs.RollForwardFiles;
import io.hupd.device.Device;
import io.hupd.ports.BootPartition;
import io.hupd.ports.Bootloader;
import io.hupd.ports.Power;
import io.hupd.ports.Slots;
import io.hupd.ports.StatePartition;
import io.hupd.ports.Supervisor;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * Counts every side effect hupd asks of the device (each call of a port method that changes something) and
 * can crash the process just before the k-th one: the boundaries at which the exhaustive tests cut.
 */
public final class SideEffects {
    private static final Set<String> MUTATING = Set.of("write", "markNotBootable", "markVerified", "backup",
            "install", "restore", "arm", "disarm", "writeMarker", "stop", "start", "reboot");

    private int seen;
    private int crashAt = -1;
    private Path settingsDir;
    private boolean tornCopies;
    public final List<String> log = new ArrayList<>();

    /** Crash before the k-th side effect from now on (0-based; -1 never). */
    public SideEffects crashBefore(int k) {
        this.crashAt = k;
        this.seen = 0;
        log.clear();
        return this;
    }

    /**
     * Also a boundary inside every boot-settings write: the new settings decided but not yet in place. For the
     * file flavours that is the checksummed sibling complete and the target still old (a power cut before the
     * rename); for the binary environment, whose copies are overwritten in place, the new copy half written.
     */
    public SideEffects insideSettingsWrites(Path bootDir, String flavour) {
        this.settingsDir = bootDir;
        this.tornCopies = io.hupd.adapters.bootloader.UBootBinaryEnv.FLAVOUR.equals(flavour);
        return this;
    }

    public int seen() {
        return seen;
    }

    /** Also a boundary: each step's outcome, just before the runner persists the transition it causes. */
    public UnaryOperator<io.hupd.runner.StepRegistry> steps() {
        return registry -> {
            for (io.hupd.machine.UpdateState s : io.hupd.machine.UpdateState.values()) {
                registry.forState(s).ifPresent(inner -> registry.replace(s, (ctx, log) -> {
                    io.hupd.steps.StepOutcome o = inner.run(ctx, log);
                    if (o != null && o.event() != null) {
                        boundary("persist " + s + " -" + o.event() + "->");
                    }
                    return o;
                }));
            }
            return registry;
        };
    }

    private void boundary(String what) {
        if (seen == crashAt) {
            crashAt = -1;
            throw new Faults.SimulatedCrash("before side effect " + seen + ": " + what);
        }
        seen++;
        log.add(what);
    }

    public UnaryOperator<Device> wrapper() {
        return d -> new Device(d.deviceType(), d.architecture(), d.bootFilePolicy(), d.healthPolicy(),
                wrap(Bootloader.class, d.bootloader()), wrap(Slots.class, d.slots()),
                wrap(BootPartition.class, d.boot()), wrap(StatePartition.class, d.state()), d.data(),
                wrap(Supervisor.class, d.supervisor()), d.system(), wrap(Power.class, d.power()), d.health(),
                d.images(), d.clock());
    }

    private Map<Path, byte[]> snapshot() throws IOException {
        Map<Path, byte[]> files = new HashMap<>();
        try (Stream<Path> s = Files.walk(settingsDir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                files.put(p, Files.readAllBytes(p));
            }
        }
        return files;
    }

    /** Puts the boot folder back to the moment before the last changed file of the write was in place. */
    private void undoToDecided(Map<Path, byte[]> before) throws IOException {
        Map<Path, byte[]> after = snapshot();
        Path last = null;
        for (Map.Entry<Path, byte[]> e : after.entrySet()) {
            if (!Arrays.equals(e.getValue(), before.get(e.getKey())) && (last == null
                    || Files.getLastModifiedTime(e.getKey()).compareTo(Files.getLastModifiedTime(last)) > 0)) {
                last = e.getKey();
            }
        }
        if (last == null) {
            return; // the write changed nothing on disk: there is no moment in between
        }
        byte[] written = after.get(last);
        byte[] old = before.get(last);
        if (tornCopies) {
            byte[] torn = old.clone();
            int from = 0;
            while (from < torn.length && torn[from] == written[from]) {
                from++;
            }
            int to = torn.length;
            while (to > from && torn[to - 1] == written[to - 1]) {
                to--;
            }
            System.arraycopy(written, from, torn, from, (to - from + 1) / 2);
            Files.write(last, torn);
            return;
        }
        Files.write(RollForwardFiles.siblingOf(last, written), written);
        if (old == null) {
            Files.delete(last);
        } else {
            Files.write(last, old);
        }
    }

    @SuppressWarnings("unchecked")
    private <T> T wrap(Class<T> type, T target) {
        return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, m, args) -> {
            if (MUTATING.contains(m.getName()) && !m.isDefault()) {
                boundary(type.getSimpleName() + "." + m.getName());
            }
            boolean settingsWrite = settingsDir != null && type == Bootloader.class && m.getName().equals("write");
            Map<Path, byte[]> before = settingsWrite ? snapshot() : null;
            Object result;
            try {
                result = m.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            if (type == Slots.class && m.getName().equals("openRaw") && Boolean.TRUE.equals(args[1])) {
                return new FlushBoundaryChannel((java.nio.channels.FileChannel) result, this::boundary);
            }
            if (settingsWrite) {
                if (seen == crashAt) {
                    undoToDecided(before);
                }
                boundary("Bootloader.write: decided, not in place");
            }
            return result;
        });
    }
}
