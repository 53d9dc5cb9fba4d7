package io.hupd.machine;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.springframework.messaging.support.MessageBuilder;
import org.springframework.statemachine.StateContext;
import org.springframework.statemachine.StateMachine;
import org.springframework.statemachine.StateMachineEventResult;
import org.springframework.statemachine.action.Action;
import org.springframework.statemachine.config.StateMachineBuilder;
import org.springframework.statemachine.guard.Guard;
import org.springframework.statemachine.support.DefaultExtendedState;
import org.springframework.statemachine.support.DefaultStateMachineContext;
import reactor.core.publisher.Mono;

/**
 * The update's state machine: Spring Statemachine built from {@link TransitionTable}, plus the loop guard. Only
 * the runner's thread calls it; it does no work of its own beyond bookkeeping in the context.
 */
public final class UpdateMachine {
    private static final String CONTEXT = "context";
    private static final String REASON = "reason";
    private static final String FINDING = "finding";

    /** What one accepted event did. */
    public record Fired(UpdateState from, UpdateEvent event, UpdateState to, String reason) {}

    /** An event the current state does not take: a bug in a caller, never a user error. */
    public static final class RefusedEvent extends IllegalStateException {
        public RefusedEvent(UpdateState state, UpdateEvent event) {
            super("event " + event + " is not taken in state " + state);
        }
    }

    private final MachineLimits limits;
    private final StateMachine<UpdateState, UpdateEvent> machine;

    public UpdateMachine(MachineLimits limits) {
        this.limits = limits;
        this.machine = build(limits);
    }

    /**
     * The transitions as the built Spring machine holds them (not as the table lists them), so that the generated
     * diagrams can never show something other than what runs. Spring keeps guards and actions only as wrapped
     * functions, so their types come from the table row with the same source, event and target (unique: the
     * table is refused otherwise).
     */
    public List<Transition> definition() {
        List<Transition> out = new ArrayList<>();
        for (var t : machine.getTransitions()) {
            UpdateState source = t.getSource().getId();
            UpdateEvent event = t.getTrigger().getEvent();
            UpdateState target = t.getTarget().getId();
            Transition row = TransitionTable.ROWS.stream()
                    .filter(r -> r.source() == source && r.event() == event && r.target() == target)
                    .findFirst().orElseThrow(() -> new IllegalStateException("the built machine has a transition"
                            + " the table does not list: " + source + " -" + event + "-> " + target));
            boolean acts = t.getActions() != null && !t.getActions().isEmpty();
            out.add(new Transition(source, event, target, t.getGuard() == null ? null : row.guard(),
                    acts ? row.action() : null));
        }
        return out;
    }

    /** The state a new machine starts in. */
    public UpdateState initialState() {
        return machine.getInitialState().getId();
    }

    public MachineLimits limits() {
        return limits;
    }

    /** Puts the machine into a persisted state without running anything (recovery decides what runs next). */
    public void restore(UpdateState state, UpdateContext context) {
        machine.stopReactively().block();
        DefaultExtendedState ext = new DefaultExtendedState();
        if (context != null) {
            ext.getVariables().put(CONTEXT, context);
        }
        machine.getStateMachineAccessor().doWithAllRegions(a -> a.resetStateMachineReactively(
                new DefaultStateMachineContext<>(state, null, null, ext)).block());
        machine.startReactively().block();
    }

    public UpdateState state() {
        return machine.getState().getId();
    }

    public UpdateContext context() {
        return (UpdateContext) machine.getExtendedState().getVariables().get(CONTEXT);
    }

    /**
     * Applies a change to the context in the current state, without a transition: a step's outcome, or its
     * recorded progress, as the runner hands them over (it persists the result). Like the machine's own
     * actions, it goes through {@link #change}, the one place the context is replaced.
     */
    public UpdateContext apply(ContextChange change) {
        return change(machine.getExtendedState().getVariables(), change);
    }

    private static UpdateContext change(Map<Object, Object> vars, ContextChange change) {
        UpdateContext current = (UpdateContext) vars.get(CONTEXT);
        if (current == null) {
            throw new IllegalStateException("no update context to change");
        }
        UpdateContext next = change.applyTo(current);
        vars.put(CONTEXT, next);
        return next;
    }

    public boolean accepts(UpdateEvent event) {
        return TransitionTable.accepts(state(), event);
    }

    /** Begins a new update with a fresh context. */
    public Fired start(UpdateContext fresh) {
        machine.getExtendedState().getVariables().put("next", fresh);
        return fire(UpdateEvent.START, null);
    }

    /**
     * Sends one event. The loop guard may turn it into {@link UpdateEvent#LOOP_DETECTED}; the returned record says
     * which event was applied, as the journal records it.
     */
    public Fired fire(UpdateEvent event, String reason) {
        return fire(event, reason, null);
    }

    /**
     * Sends one event with what a check found; where the table's guards choose on a {@link Finding}, it must be
     * given. Its problem, if any, is the transition's reason.
     */
    public Fired fire(UpdateEvent event, String reason, Finding finding) {
        UpdateState from = state();
        UpdateContext ctx = context();
        if (ctx != null && event != UpdateEvent.START && event != UpdateEvent.LOOP_DETECTED
                && ctx.transitions() >= limits.loopCeiling()
                && TransitionTable.accepts(from, UpdateEvent.LOOP_DETECTED)) {
            reason = "loop detected: " + ctx.transitions() + " transitions in this update (ceiling "
                    + limits.loopCeiling() + ")";
            event = UpdateEvent.LOOP_DETECTED;
            finding = null;
        }
        if (finding == null && TransitionTable.decidedByFinding(from, event)) {
            throw new IllegalArgumentException(event + " in " + from + " needs the check's finding: its guards"
                    + " choose the way on it");
        }
        if (reason == null && finding != null) {
            reason = finding.problem();
        }
        MessageBuilder<UpdateEvent> msg = MessageBuilder.withPayload(event);
        if (reason != null) {
            msg.setHeader(REASON, reason);
        }
        if (finding != null) {
            msg.setHeader(FINDING, finding);
        }
        StateMachineEventResult<UpdateState, UpdateEvent> result = machine.sendEvent(Mono.just(msg.build()))
                .blockLast();
        if (result == null || result.getResultType() != StateMachineEventResult.ResultType.ACCEPTED) {
            throw new RefusedEvent(from, event);
        }
        int transitions = context().transitions();
        apply(c -> c.transitions(transitions + 1));
        UpdateState to = state();
        return new Fired(from, TransitionTable.taken(from, event, to).journaledEvent(), to, reason);
    }

    private static StateMachine<UpdateState, UpdateEvent> build(MachineLimits limits) {
        try {
            StateMachineBuilder.Builder<UpdateState, UpdateEvent> b = StateMachineBuilder.builder();
            b.configureConfiguration().withConfiguration().autoStartup(false).machineId("hupd-update");
            b.configureStates().withStates().initial(UpdateState.IDLE).states(EnumSet.allOf(UpdateState.class));
            var transitions = b.configureTransitions();
            for (Transition row : TransitionTable.ROWS) {
                var t = transitions.withExternal().source(row.source()).target(row.target()).event(row.event());
                if (row.guard() != null) {
                    t.guard(guard(row.guard(), limits));
                }
                if (row.action() != null) {
                    t.action(action(row.action()));
                }
            }
            StateMachine<UpdateState, UpdateEvent> sm = b.build();
            sm.startReactively().block();
            return sm;
        } catch (Exception e) {
            throw new IllegalStateException("the update machine definition is invalid: " + e.getMessage(), e);
        }
    }

    private static Guard<UpdateState, UpdateEvent> guard(TransitionGuard g, MachineLimits limits) {
        return switch (g) {
            case ATTEMPTS_LEFT -> c -> ctx(c).attempts() < limits.attemptLimit();
            case ATTEMPT_LIMIT_REACHED -> c -> ctx(c).attempts() >= limits.attemptLimit();
            case NEW_OS_CAME_UP -> c -> !fellBack(c);
            case BOOTLOADER_FELL_BACK -> UpdateMachine::fellBack;
            case HEALTHY -> UpdateMachine::healthy;
            case UNHEALTHY -> c -> !healthy(c);
        };
    }

    private static Action<UpdateState, UpdateEvent> action(TransitionAction a) {
        return switch (a) {
            case BEGIN_UPDATE -> UpdateMachine::beginUpdate;
            case COUNT_ATTEMPT -> c -> {
                int attempts = ctx(c).attempts();
                change(c, next -> next.attempts(attempts + 1));
            };
            case RECORD_REASON -> UpdateMachine::recordReason;
            case RECORD_ATTEMPT_LIMIT -> c -> {
                UpdateContext ctx = ctx(c);
                if (ctx.reason() == null) {
                    change(c, next -> next.reason("attempt limit reached: the update was interrupted "
                            + ctx.attempts() + " times before its commit point"));
                }
            };
        };
    }

    private static boolean fellBack(StateContext<UpdateState, UpdateEvent> c) {
        return c.getMessageHeader(FINDING) instanceof BootCheck b && b.bootloaderFellBack();
    }

    private static boolean healthy(StateContext<UpdateState, UpdateEvent> c) {
        return c.getMessageHeader(FINDING) instanceof HealthFinding h && h.isHealthy();
    }

    private static UpdateContext ctx(StateContext<UpdateState, UpdateEvent> c) {
        return (UpdateContext) c.getExtendedState().getVariables().get(CONTEXT);
    }

    private static void change(StateContext<UpdateState, UpdateEvent> c, ContextChange change) {
        change(c.getExtendedState().getVariables(), change);
    }

    private static void beginUpdate(StateContext<UpdateState, UpdateEvent> c) {
        Map<Object, Object> vars = c.getExtendedState().getVariables();
        vars.put(CONTEXT, vars.remove("next"));
    }

    private static void recordReason(StateContext<UpdateState, UpdateEvent> c) {
        UpdateContext ctx = ctx(c);
        Object reason = c.getMessageHeader(REASON);
        if (ctx.reason() == null && reason != null) {
            change(c, next -> next.reason(reason.toString()));
        }
    }
}
