package io.hupd.runner;

import io.hupd.device.Device;
import io.hupd.machine.ContextChange;
import io.hupd.machine.TransitionTable;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateEvent;
import io.hupd.machine.UpdateMachine;
import io.hupd.machine.UpdateState;
import io.hupd.persistence.StateStore;
import io.hupd.ports.AbortRequested;
import io.hupd.ports.Progress;
import io.hupd.ports.UserInputException;
import io.hupd.steps.Step;
import io.hupd.steps.StepLog;
import io.hupd.steps.StepOutcome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Drives one update: runs the step of the current state, turns its outcome into an event, lets the machine
 * decide the next state, and persists that transition (forced to disk) before the next step's side effects.
 * Steps run here, on the caller's thread, never inside Spring Statemachine actions.
 */
public final class UpdateRunner {
    private final Device device;
    private final StateStore store;
    private final UpdateMachine machine;
    private final StepRegistry steps;
    private final UpdateLog log;
    private final Path abortRequest;
    private final Path logDir;

    public UpdateRunner(Device device, StateStore store, UpdateMachine machine, StepRegistry steps, UpdateLog log,
            Path abortRequest, Path logDir) {
        this.device = device;
        this.store = store;
        this.machine = machine;
        this.steps = steps;
        this.log = log;
        this.abortRequest = abortRequest;
        this.logDir = logDir;
    }

    public UpdateMachine machine() {
        return machine;
    }

    /** Fires an event and persists the transition; the only way hupd changes state. */
    public UpdateMachine.Fired fire(UpdateEvent event, String reason) throws IOException {
        UpdateMachine.Fired f = machine.fire(event, reason);
        persist(f);
        return f;
    }

    public UpdateMachine.Fired start(UpdateContext fresh) throws IOException {
        UpdateMachine.Fired f = machine.start(fresh);
        persist(f);
        return f;
    }

    void persist(UpdateMachine.Fired f) throws IOException {
        UpdateContext ctx = machine.context();
        store.record(f, f.to().phase(), ctx, device.clock().now());
        openLogFile(ctx);
        log.state(f.to().name());
        String why = f.reason() == null ? "" : ": " + f.reason();
        if (f.from() == f.to()) {
            log.info(f.event() + " in " + f.to() + (f.event() == UpdateEvent.RESUME ? " (attempt " + ctx.attempts()
                    + ")" : "") + why);
        } else {
            log.info(f.from() + " -> " + f.to() + " on " + f.event() + why);
        }
    }

    /** Journals a move into a state recovery chose without an event: out of an unknown state, or after a lost database. */
    void persistRecovered(String from, UpdateState to, String why) throws IOException {
        int transitions = machine.context().transitions();
        UpdateContext ctx = machine.apply(c -> c.transitions(transitions + 1));
        store.record(from, io.hupd.machine.RecoveryTable.RECOVERED, to.name(), to.phase(), why, ctx, device.clock().now());
        openLogFile(ctx);
        log.state(to.name());
        log.warn(from + " -> " + to + ": " + why);
    }

    void openLogFile(UpdateContext ctx) {
        if (ctx != null && ctx.updateId() != null) {
            log.openFile(logDir.resolve(ctx.updateId() + ".log"));
        }
    }

    /**
     * Runs steps until the update reaches a state that waits for the world (a reboot, a power-on) or ends.
     *
     * @return the state it stopped in
     */
    public UpdateState run() throws IOException, InterruptedException {
        openLogFile(machine.context());
        while (true) {
            UpdateState state = machine.state();
            log.state(state.name());
            if (device.power().rebootRequested()) {
                return state;
            }
            if (abortRequested() && machine.accepts(UpdateEvent.ABORT)) {
                Files.deleteIfExists(abortRequest);
                fire(UpdateEvent.ABORT, "aborted by the operator (hupd abort)");
                continue;
            }
            Optional<Step> step = steps.forState(state);
            if (step.isEmpty()) {
                return state;
            }
            if (TransitionTable.needsSupervisorStopped(state) && device.supervisor().isRunning()) {
                // a reboot in the middle of the update started it again
                device.supervisor().stop();
            }
            StepOutcome outcome = runStep(state, step.get());
            if (outcome == null) {
                return state;
            }
            if (outcome.change() != null) {
                // where a step's change reaches the context: persisted with the transition that follows
                machine.apply(outcome.change());
            }
            if (outcome.event() == null) {
                if (outcome.change() != null) {
                    store.updateContext(machine.context());
                }
                return state;
            }
            persist(machine.fire(outcome.event(), outcome.reason(), outcome.finding()));
        }
    }

    private StepOutcome runStep(UpdateState state, Step step) throws InterruptedException, IOException {
        try {
            return step.run(machine.context(), new Recording(state == UpdateState.FETCHING
                    && machine.accepts(UpdateEvent.ABORT) ? new AbortWatch(log, abortRequest) : log));
        } catch (InterruptedException e) {
            throw e;
        } catch (AbortRequested e) {
            Files.deleteIfExists(abortRequest);
            return StepOutcome.of(UpdateEvent.ABORT, "aborted by the operator (hupd abort) " + e.getMessage());
        } catch (Exception e) {
            String reason = oneLine(e);
            if (machine.accepts(UpdateEvent.FAILED)) {
                return StepOutcome.failed(reason);
            }
            // After the commit point there is no "failed": the state stays, and the next start runs it again.
            log.warn(state + " did not finish (" + reason + "); it runs again at the next start");
            throw new IOException(state + " did not finish: " + reason, e);
        }
    }

    /**
     * What a step is given to tell its work and to record the progress it must not lose before it ends: a
     * recorded change is applied to the context and persisted at once, in the current state.
     */
    private final class Recording extends ForwardingLog {
        Recording(StepLog log) {
            super(log);
        }

        @Override
        public void record(ContextChange change) throws IOException {
            store.updateContext(machine.apply(change));
        }
    }

    /**
     * The step's log, with a progress that stops the work at the next chunk once an abort is requested: a
     * download that takes minutes must not make {@code hupd abort} wait for its end. Only for a fetch, whose
     * work leaves nothing half-done that a revert does not undo (the partial download stays for a retry).
     */
    private static final class AbortWatch extends ForwardingLog {
        private final Progress progress;

        AbortWatch(StepLog log, Path abortRequest) {
            super(log);
            Progress next = log.progress();
            this.progress = new Progress() {
                private long done;

                @Override
                public void start(String task, long totalBytes) {
                    next.start(task, totalBytes);
                }

                @Override
                public void advance(long bytes) {
                    next.advance(bytes);
                    done += bytes;
                    if (Files.exists(abortRequest)) {
                        throw new AbortRequested("during the download, after " + done + " bytes");
                    }
                }

                @Override
                public void finish() {
                    next.finish();
                }

                @Override
                public void note(String what) {
                    next.note(what);
                }
            };
        }

        @Override
        public Progress progress() {
            return progress;
        }
    }

    /** A step's log that passes everything to the one it wraps; the wrappers above change one thing each. */
    private abstract static class ForwardingLog implements StepLog {
        final StepLog log;

        ForwardingLog(StepLog log) {
            this.log = log;
        }

        @Override
        public void info(String line) {
            log.info(line);
        }

        @Override
        public void warn(String line) {
            log.warn(line);
        }

        @Override
        public Progress progress() {
            return log.progress();
        }
    }

    private boolean abortRequested() {
        return Files.exists(abortRequest);
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            m = e.getClass().getSimpleName();
        } else if (!(e instanceof IOException) && !(e instanceof UserInputException)) {
            m = e.getClass().getSimpleName() + ": " + m;
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
