package io.hupd.diagram;

import io.hupd.machine.UpdateState;

/** Mermaid stateDiagram-v2 (GitHub renders it inline in Markdown). */
final class Mermaid {
    private Mermaid() {}

    static String render(MachineModel m) {
        StringBuilder sb = new StringBuilder();
        sb.append("%% ").append(Diagrams.GENERATED_NOTE).append('\n');
        sb.append("stateDiagram-v2\n");
        sb.append("    direction TB\n");
        sb.append("    classDef before fill:#DCEBFA,stroke:#4A6F94\n");
        sb.append("    classDef after fill:#FDEBC8,stroke:#9A7B32\n");
        sb.append("    classDef ok fill:#CDEFD2,stroke:#2E7D32\n");
        sb.append("    classDef bad fill:#F8D3D0,stroke:#A93226\n");
        sb.append("    classDef commit fill:#FDEBC8,stroke:#C0392B,stroke-width:3px\n");
        sb.append("    [*] --> ").append(m.initial().name()).append('\n');
        // Happy path first: Mermaid lays states out in the order it meets them, which keeps the path in a line.
        for (MachineModel.Edge e : m.edges()) {
            if (m.onHappyPath(e)) {
                edge(sb, e);
            }
        }
        for (MachineModel.Edge e : m.edges()) {
            if (!m.onHappyPath(e)) {
                edge(sb, e);
            }
        }
        sb.append("    note right of ").append(m.commitPoint().name())
                .append(": commit point (the boot settings switch)\n");
        for (UpdateState s : m.states()) {
            sb.append("    class ").append(s.name()).append(' ').append(PlantUml.stereotype(m, s)).append('\n');
        }
        return sb.toString();
    }

    private static void edge(StringBuilder sb, MachineModel.Edge e) {
        // Mermaid takes one label per arrow; ";" keeps the merged labels on it readable.
        sb.append("    ").append(e.from().name()).append(" --> ").append(e.to().name()).append(": ")
                .append(String.join("; ", e.labels())).append('\n');
    }
}
