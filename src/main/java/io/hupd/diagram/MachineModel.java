package io.hupd.diagram;

import io.hupd.machine.Phase;
import io.hupd.machine.Transition;
import io.hupd.machine.UpdateEvent;
import io.hupd.machine.UpdateMachine;
import io.hupd.machine.UpdateState;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The update machine as the diagrams see it: its transitions read from a built machine, the happy path, the
 * commit point, and parallel transitions merged into one edge (so that a state with four ways into REVERTING
 * gets one arrow with four labels, not four arrows on top of each other).
 */
public final class MachineModel {
    /** All transitions from {@code from} to {@code to}, drawn as one arrow. */
    public record Edge(UpdateState from, UpdateState to, List<Transition> transitions) {
        public String id() {
            return from.name() + "--" + to.name();
        }

        public boolean selfLoop() {
            return from == to;
        }

        /** "EVENT [guard] / action", one per transition. */
        public List<String> labels() {
            return transitions.stream().map(MachineModel::label).toList();
        }
    }

    private final UpdateState initial;
    private final List<Transition> transitions;
    private final List<UpdateState> states;
    private final List<UpdateState> happyPath;
    private final List<Edge> edges;

    MachineModel(UpdateState initial, List<Transition> live) {
        this.initial = initial;
        List<Transition> sorted = new ArrayList<>(live);
        // The machine's own order is an implementation detail; sorting keeps the committed files stable.
        sorted.sort(Comparator.comparing(Transition::source).thenComparing(Transition::event)
                .thenComparing(Transition::target).thenComparing(t -> t.guard() == null ? "" : t.guard().label()));
        this.transitions = List.copyOf(sorted);
        Set<UpdateState> seen = EnumSet.of(initial);
        for (Transition t : sorted) {
            seen.add(t.source());
            seen.add(t.target());
        }
        this.states = List.copyOf(seen);
        this.happyPath = List.copyOf(walkHappyPath());
        Map<String, List<Transition>> byPair = new LinkedHashMap<>();
        for (Transition t : sorted) {
            byPair.computeIfAbsent(t.source().name() + "--" + t.target().name(), k -> new ArrayList<>()).add(t);
        }
        this.edges = byPair.values().stream()
                .map(ts -> new Edge(ts.get(0).source(), ts.get(0).target(), List.copyOf(ts))).toList();
    }

    /** The model of the machine that runs (a fresh one: the definition does not depend on limits or state). */
    public static MachineModel live() {
        UpdateMachine m = new UpdateMachine(io.hupd.machine.MachineLimits.DEFAULT);
        return new MachineModel(m.initialState(), m.definition());
    }

    public static MachineModel of(UpdateMachine machine) {
        return new MachineModel(machine.initialState(), machine.definition());
    }

    public UpdateState initial() {
        return initial;
    }

    public List<Transition> transitions() {
        return transitions;
    }

    public List<UpdateState> states() {
        return states;
    }

    public List<Edge> edges() {
        return edges;
    }

    /**
     * From the initial state, the way an update goes when every step succeeds: START, then SUCCEEDED where a
     * state takes it, else BOOTED (the reboot), until a state that ends the update.
     */
    public List<UpdateState> happyPath() {
        return happyPath;
    }

    /** The last state before the phase changes to after-commit along the happy path: the boot switch. */
    public UpdateState commitPoint() {
        for (int i = 0; i + 1 < happyPath.size(); i++) {
            if (happyPath.get(i).phase() == Phase.BEFORE_COMMIT && happyPath.get(i + 1).phase() == Phase.AFTER_COMMIT) {
                return happyPath.get(i);
            }
        }
        throw new IllegalStateException("the happy path never crosses the commit point: " + happyPath);
    }

    public boolean onHappyPath(Edge e) {
        int i = happyPath.indexOf(e.from());
        return i >= 0 && i + 1 < happyPath.size() && happyPath.get(i + 1) == e.to();
    }

    private List<UpdateState> walkHappyPath() {
        List<UpdateState> path = new ArrayList<>();
        UpdateState s = initial;
        path.add(s);
        while (path.size() <= states.size()) {
            UpdateState next = step(s, path.size() == 1 ? UpdateEvent.START : UpdateEvent.SUCCEEDED);
            if (next == null) {
                next = step(s, UpdateEvent.BOOTED);
            }
            if (next == null || path.contains(next)) {
                break;
            }
            path.add(next);
            s = next;
            if (s.phase() == Phase.DONE) {
                break;
            }
        }
        return path;
    }

    private UpdateState step(UpdateState from, UpdateEvent event) {
        return transitions.stream().filter(t -> t.source() == from && t.event() == event && t.target() != from)
                .map(Transition::target).findFirst().orElse(null);
    }

    static String label(Transition t) {
        return t.event().name() + (t.guard() == null ? "" : " [" + t.guard().label() + "]")
                + (t.action() == null ? "" : " / " + t.action().label());
    }
}
