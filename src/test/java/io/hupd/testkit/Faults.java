package io.hupd.testkit;

import io.hupd.device.Device;
import io.hupd.machine.MachineLimits;
import io.hupd.machine.UpdateState;
import io.hupd.ports.Progress;
import io.hupd.runner.StepRegistry;
import io.hupd.runner.UpdateLog;
import io.hupd.runner.UpdateRequest;
import io.hupd.runner.UpdateService;
import io.hupd.steps.Step;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/** Faults injected around a state's step: a crash (the process dies) before or after its work, or a failure. */
public final class Faults {
    /** The process dies here: an Error, so that nothing in hupd catches it and nothing more is persisted. */
    public static final class SimulatedCrash extends Error {
        public SimulatedCrash(String where) {
            super("simulated crash " + where);
        }
    }

    public enum Kind { CRASH_BEFORE, CRASH_AFTER, FAIL }

    private Faults() {}

    /** Injects the fault the first {@code times} times the state's step runs (across services sharing the counter). */
    public static UnaryOperator<StepRegistry> at(UpdateState state, Kind kind, int times) {
        AtomicInteger left = new AtomicInteger(times);
        return registry -> {
            Step inner = registry.forState(state).orElseThrow();
            return registry.replace(state, (ctx, log) -> {
                if (left.get() <= 0) {
                    return inner.run(ctx, log);
                }
                left.decrementAndGet();
                switch (kind) {
                    case CRASH_BEFORE -> throw new SimulatedCrash("before " + state);
                    case FAIL -> throw new java.io.IOException("injected failure in " + state);
                    default -> {
                        inner.run(ctx, log);
                        throw new SimulatedCrash("after " + state);
                    }
                }
            });
        };
    }

    /**
     * Runs the update on {@code device} and lets the process die once more than {@code crashAfter} bytes have been
     * reported as progress (downloaded or written); fails the test when the update ends without that crash.
     */
    public static void updateDyingAfterBytes(Device device, Path dataDir, UpdateRequest request, long crashAfter) {
        Progress dying = new Progress() {
            long seen;

            @Override
            public void start(String task, long totalBytes) {}

            @Override
            public void advance(long bytes) {
                seen += bytes;
                if (seen > crashAfter) {
                    throw new SimulatedCrash("after " + seen + " bytes of progress");
                }
            }

            @Override
            public void finish() {}
        };
        UpdateService first = new UpdateService(device, dataDir, MachineLimits.DEFAULT,
                new UpdateLog(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), dying),
                new StepRegistry(device));
        try {
            first.update(request);
        } catch (SimulatedCrash expected) {
            return; // the process died here
        } catch (Exception e) {
            throw new AssertionError("the update failed before the injected crash: " + e.getMessage(), e);
        }
        throw new AssertionError("the injected crash did not happen");
    }
}
