package io.hupd.diagram;

import io.hupd.machine.UpdateState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Graphviz DOT: the happy path as one heavy, straight group; side states ranked beside the states they leave. */
final class Dot {
    private static final Map<String, String> FILL = Map.of("before", "#DCEBFA", "after", "#FDEBC8", "ok", "#CDEFD2",
            "bad", "#F8D3D0", "commit", "#FDEBC8");

    private Dot() {}

    static String render(MachineModel m) {
        Layout layout = new Layout(m);
        StringBuilder sb = new StringBuilder();
        sb.append("// ").append(Diagrams.GENERATED_NOTE).append('\n');
        sb.append("digraph update_machine {\n");
        sb.append("  rankdir=TB;\n  newrank=true;\n");
        sb.append("  node [shape=box, style=\"rounded,filled\", fontname=\"monospace\", fontsize=11];\n");
        sb.append("  edge [fontname=\"monospace\", fontsize=9];\n");
        sb.append("  start [shape=point, width=0.15, label=\"\"];\n");
        for (UpdateState s : m.states()) {
            String kind = PlantUml.stereotype(m, s);
            sb.append("  ").append(s.name()).append(" [fillcolor=\"").append(FILL.get(kind)).append('"');
            if (m.happyPath().contains(s)) {
                sb.append(", group=main");
            }
            if (s == m.commitPoint()) {
                sb.append(", peripheries=2, color=\"#C0392B\", label=\"").append(s.name())
                        .append("\\n(commit point)\"");
            }
            sb.append("];\n");
        }
        sb.append("  start -> ").append(m.initial().name()).append(";\n");
        for (MachineModel.Edge e : m.edges()) {
            sb.append("  ").append(e.from().name()).append(" -> ").append(e.to().name()).append(" [label=\"")
                    .append(String.join("\\n", e.labels())).append('"');
            if (m.onHappyPath(e)) {
                sb.append(", weight=20, penwidth=2");
            } else if (!e.selfLoop() && layout.cell(e.to()).row() < layout.cell(e.from()).row()) {
                // Arrows back up (a new update, a second boot) must not pull states out of the line.
                sb.append(", constraint=false, style=dashed");
            }
            sb.append("];\n");
        }
        Map<Integer, List<String>> byRow = new TreeMap<>();
        for (UpdateState s : m.states()) {
            byRow.computeIfAbsent(layout.cell(s).row(), r -> new ArrayList<>()).add(s.name());
        }
        for (List<String> row : byRow.values()) {
            if (row.size() > 1) {
                sb.append("  { rank=same; ").append(String.join("; ", row)).append("; }\n");
            }
        }
        sb.append("}\n");
        return sb.toString();
    }
}
