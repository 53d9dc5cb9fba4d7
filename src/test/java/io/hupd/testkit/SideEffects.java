package io.hupd.testkit;

import io.hupd.ports.BootPartition;
import io.hupd.ports.Bootloader;
import io.hupd.ports.Device;
import io.hupd.ports.Power;
import io.hupd.ports.Slots;
import io.hupd.ports.StatePartition;
import io.hupd.ports.Supervisor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Counts every side effect hupd asks of the device (each call of a port method that changes something) and
 * can crash the process just before the k-th one: the boundaries at which the exhaustive tests cut.
 */
public final class SideEffects {
    private static final Set<String> MUTATING = Set.of("write", "markNotBootable", "markVerified", "backup",
            "install", "restore", "arm", "disarm", "writeMarker", "stop", "start", "reboot");

    private int seen;
    private int crashAt = -1;
    public final List<String> log = new ArrayList<>();

    /** Crash before the k-th side effect from now on (0-based; -1 never). */
    public SideEffects crashBefore(int k) {
        this.crashAt = k;
        this.seen = 0;
        log.clear();
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

    @SuppressWarnings("unchecked")
    private <T> T wrap(Class<T> type, T target) {
        return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, m, args) -> {
            if (MUTATING.contains(m.getName()) && !m.isDefault()) {
                boundary(type.getSimpleName() + "." + m.getName());
            }
            try {
                return m.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }
}
