package io.hupd.testkit;

import io.hupd.machine.UpdateState;
import io.hupd.runner.StepRegistry;
import io.hupd.steps.Step;
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
}
