package io.hupd.health;

import io.hupd.ports.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * rollback-health's loop: settle, then tries until every required check passes in one try or the tries run out.
 *
 * <p>Waiting between tries goes through the {@link Clock}; the per-check time limit is real time on purpose, since
 * it guards against a check that really hangs.
 */
public final class HealthCheckRunner {
    private final Clock clock;
    private final HealthPolicy policy;
    private final Consumer<String> log;

    /**
     * Checks still running past their limit, by position in the list. A check is never started again while its
     * previous run is alive, so a check that always hangs costs one thread, not one per try.
     */
    private final Map<Integer, Hung> stuck = new HashMap<>();

    private record Hung(Thread thread, int since) {}

    /** How long a try waits for an abandoned check to finish unwinding before calling it still hung. */
    static final long STOP_GRACE_MS = 200;

    public HealthCheckRunner(Clock clock, HealthPolicy policy, Consumer<String> log) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.log = Objects.requireNonNull(log, "log");
    }

    public HealthVerdict run(List<HealthCheck> checks) throws InterruptedException {
        List<HealthCheck> list = List.copyOf(checks);
        if (!policy.settle().isZero()) {
            log.accept("health: waiting " + format(policy.settle()) + " before the first check");
        }
        clock.sleep(policy.settle());
        Failure firstRequired = null;
        for (int attempt = 1; attempt <= policy.count(); attempt++) {
            List<Outcome> outcomes = runAll(list, attempt);
            firstRequired = null;
            for (int i = 0; i < list.size(); i++) {
                HealthCheck c = list.get(i);
                Outcome o = outcomes.get(i);
                if (o.passed) {
                    continue;
                }
                boolean required = isRequired(c);
                log.accept("health try " + attempt + "/" + policy.count() + ": " + name(c, i)
                        + (required ? "" : " (wanted, ignored)") + " failed: " + firstLine(o.output));
                if (required && firstRequired == null) {
                    firstRequired = new Failure(name(c, i), o.output);
                }
            }
            if (firstRequired == null) {
                log.accept("health: all required checks passed on try " + attempt + "/" + policy.count());
                return new HealthVerdict(true, attempt, null, "");
            }
            if (attempt < policy.count()) {
                clock.sleep(policy.interval());
            }
        }
        HealthVerdict v = new HealthVerdict(false, policy.count(), firstRequired.name, firstRequired.output);
        log.accept("health: unhealthy: " + v.reason());
        return v;
    }

    private record Outcome(boolean passed, String output) {}

    private record Failure(String name, String output) {}

    /** All checks of one try run side by side, so one try takes at most one check time limit. */
    private List<Outcome> runAll(List<HealthCheck> list, int attempt) throws InterruptedException {
        List<FutureTask<HealthCheck.Result>> tasks = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            Hung previous = stuck.get(i);
            if (previous != null) {
                // An interrupted check that does stop needs a moment to unwind; without this grace a busy machine
                // would report a check that has in fact given up as still hung, and never run it again.
                previous.thread().join(STOP_GRACE_MS);
            }
            if (previous != null && previous.thread().isAlive()) {
                tasks.add(null);
                threads.add(null);
                continue;
            }
            stuck.remove(i);
            HealthCheck c = list.get(i);
            FutureTask<HealthCheck.Result> task = new FutureTask<>(c::run);
            Thread t = new Thread(task, "health-check-" + name(c, i));
            t.setDaemon(true);
            tasks.add(task);
            threads.add(t);
        }
        long deadline = System.nanoTime() + policy.checkTimeout().toNanos();
        for (Thread t : threads) {
            if (t != null) {
                t.start();
            }
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            FutureTask<HealthCheck.Result> task = tasks.get(i);
            if (task == null) {
                outcomes.add(new Outcome(false, "timed out after " + format(policy.checkTimeout())
                        + " (hung since try " + stuck.get(i).since() + ")"));
                continue;
            }
            outcomes.add(await(task, threads.get(i), i, attempt, deadline, threads));
        }
        return outcomes;
    }

    private Outcome await(FutureTask<HealthCheck.Result> task, Thread thread, int index, int attempt,
            long deadline, List<Thread> all) throws InterruptedException {
        try {
            HealthCheck.Result r = task.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (r == null) {
                return new Outcome(false, "returned no result");
            }
            return new Outcome(r.passed(), r.output() == null ? "" : r.output());
        } catch (TimeoutException e) {
            // Abandoned, not awaited: the verdict must not depend on a check that never returns.
            thread.interrupt();
            stuck.put(index, new Hung(thread, attempt));
            return new Outcome(false, "timed out after " + format(policy.checkTimeout()));
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            String msg = cause.getMessage();
            return new Outcome(false, msg == null || msg.isBlank() ? cause.getClass().getSimpleName() : msg);
        } catch (InterruptedException e) {
            for (Thread t : all) {
                if (t != null) {
                    t.interrupt();
                }
            }
            throw e;
        }
    }

    private static boolean isRequired(HealthCheck c) {
        // A check that does not say is treated as deciding: a forgotten kind must not hide a broken OS.
        return c.kind() != HealthCheck.Kind.WANTED;
    }

    private static String name(HealthCheck c, int index) {
        String n = c.name();
        return n == null || n.isBlank() ? "check-" + (index + 1) : n;
    }

    private static String firstLine(String s) {
        return s.strip().lines().findFirst().orElse("(no output)");
    }

    /** "200ms", "2s", "1m" — the way durations are written on hupd's command line. */
    static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 1000 != 0) {
            return ms + "ms";
        }
        long s = ms / 1000;
        if (s >= 60 && s % 60 == 0) {
            return s / 60 + "m";
        }
        return s + "s";
    }
}
