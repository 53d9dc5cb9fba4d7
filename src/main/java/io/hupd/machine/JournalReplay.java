package io.hupd.machine;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Replays a recorded journal (the rows of {@code hupd history --json}) against a fresh machine and reports every
 * row where this definition would have gone elsewhere (Temporal's replay check): a change to the table, a guard
 * or the loop guard that alters what old runs did shows up here.
 */
public final class JournalReplay {
    /** One journal row as recorded. */
    public record Row(String updateId, String from, String event, String to) {}

    private JournalReplay() {}

    /** @return one line per row that does not replay the same way; empty when the whole journal does */
    public static List<String> mismatches(List<Row> journal, MachineLimits limits) {
        List<String> out = new ArrayList<>();
        UpdateMachine machine = new UpdateMachine(limits);
        for (int i = 0; i < journal.size(); i++) {
            Row row = journal.get(i);
            String at = "row " + (i + 1) + " (" + row.from() + " -" + row.event() + "-> " + row.to() + ")";
            Optional<UpdateState> from = RecoveryTable.known(row.from());
            Optional<UpdateState> to = RecoveryTable.known(row.to());
            if (to.isEmpty()) {
                out.add(at + ": state " + row.to() + " is not known to this hupd");
                return out;
            }
            if (row.event().equals(UpdateEvent.START.name())) {
                UpdateContext ctx = UpdateContext.builder().updateId(row.updateId()).build();
                if (from.isPresent() && from.get() != machine.state()) {
                    machine.restore(from.get(), machine.context());
                }
                check(out, at, machine.start(ctx), to.get(), row.event());
                continue;
            }
            if (row.event().equals(RecoveryTable.RECOVERED) || from.isEmpty() || from.get() != machine.state()) {
                // A move recovery made without an event (out of an unknown state, after a lost database, or a
                // database behind the boot settings): the machine is put where the run went.
                UpdateContext was = machine.context() != null ? machine.context() : UpdateContext.empty();
                ContextChange replayed = next -> next.updateId(row.updateId()).transitions(was.transitions() + 1);
                UpdateContext ctx = replayed.applyTo(was);
                machine.restore(to.get(), ctx);
                continue;
            }
            try {
                check(out, at, replay(machine, from.get(), row.event()), to.get(), row.event());
            } catch (UpdateMachine.RefusedEvent | IllegalArgumentException e) {
                out.add(at + ": " + e.getMessage());
                return out;
            }
        }
        return out;
    }

    /**
     * A journal records the way a check's finding chose (ALTBOOT_DETECTED, UNHEALTHY, or SUCCEEDED), not the facts
     * themselves: the replay hands the machine a finding that opens that way, so what it checks is that the table
     * still has the way and that it leads where the run went.
     */
    private static UpdateMachine.Fired replay(UpdateMachine machine, UpdateState from, String journaled) {
        Optional<Transition> way = TransitionTable.ROWS.stream().filter(r -> r.source() == from
                && r.journaledEvent().name().equals(journaled) && r.guard() != null && r.guard().readsFinding())
                .findFirst();
        if (way.isPresent()) {
            return machine.fire(way.get().event(), null, findingThatOpens(way.get().guard()));
        }
        return machine.fire(UpdateEvent.valueOf(journaled), null);
    }

    private static Finding findingThatOpens(TransitionGuard guard) {
        return switch (guard) {
            case NEW_OS_CAME_UP -> new BootCheck("B", 3, 3, true, 1, 3, "B", "replayed");
            case BOOTLOADER_FELL_BACK -> new BootCheck("A", 2, 3, true, 3, 3, "B", "replayed");
            case HEALTHY -> HealthFinding.healthy();
            case UNHEALTHY -> HealthFinding.unhealthy("replayed");
            case ATTEMPTS_LEFT, ATTEMPT_LIMIT_REACHED -> throw new IllegalArgumentException(guard
                    + " decides on the context, not on a finding");
        };
    }

    private static void check(List<String> out, String at, UpdateMachine.Fired fired, UpdateState to, String event) {
        if (fired.to() != to || !fired.event().name().equals(event)) {
            out.add(at + ": replays as " + fired.from() + " -" + fired.event() + "-> " + fired.to());
        }
    }
}
