package io.hupd.diagram;

import io.hupd.machine.Phase;
import io.hupd.machine.UpdateState;

/** PlantUML state diagram; arrow directions carry the layout (happy path down, failures to the right). */
final class PlantUml {
    private PlantUml() {}

    static String render(MachineModel m) {
        Layout layout = new Layout(m);
        StringBuilder sb = new StringBuilder();
        sb.append("@startuml\n");
        sb.append("' ").append(Diagrams.GENERATED_NOTE).append('\n');
        sb.append("!pragma layout smetana\n");
        sb.append("hide empty description\n");
        sb.append("skinparam state {\n");
        sb.append("  BackgroundColor<<before>> #DCEBFA\n");
        sb.append("  BackgroundColor<<after>> #FDEBC8\n");
        sb.append("  BackgroundColor<<ok>> #CDEFD2\n");
        sb.append("  BackgroundColor<<bad>> #F8D3D0\n");
        sb.append("  BackgroundColor<<commit>> #FDEBC8\n");
        sb.append("  BorderColor<<commit>> #C0392B\n");
        sb.append("}\n");
        for (UpdateState s : m.states()) {
            String name = s == m.commitPoint() ? "\"" + s.name() + "\\n(commit point)\" as " + s.name() : s.name();
            sb.append("state ").append(name).append(" <<").append(stereotype(m, s)).append(">>\n");
        }
        sb.append("[*] --> ").append(m.initial().name()).append('\n');
        for (MachineModel.Edge e : m.edges()) {
            sb.append(e.from().name()).append(' ').append(arrow(m, layout, e)).append(' ').append(e.to().name())
                    .append(" : ").append(String.join("\\n", e.labels())).append('\n');
        }
        sb.append("note right of ").append(m.commitPoint().name())
                .append(" : the commit point: its one write switches the boot settings;\\n"
                        + "before it recovery resumes or reverts, after it the next boot is the trial\n");
        sb.append("@enduml\n");
        return sb.toString();
    }

    private static String arrow(MachineModel m, Layout layout, MachineModel.Edge e) {
        if (e.selfLoop()) {
            return "-->";
        }
        if (m.onHappyPath(e)) {
            return "-down->";
        }
        Layout.Cell a = layout.cell(e.from());
        Layout.Cell b = layout.cell(e.to());
        if (b.column() > a.column()) {
            return "-right->";
        }
        return b.row() < a.row() ? "-up->" : "-->";
    }

    static String stereotype(MachineModel m, UpdateState s) {
        if (s == m.commitPoint()) {
            return "commit";
        }
        if (s.phase() == Phase.DONE) {
            return m.happyPath().contains(s) ? "ok" : "bad";
        }
        if (!m.happyPath().contains(s)) {
            return "bad";
        }
        return s.phase() == Phase.AFTER_COMMIT ? "after" : "before";
    }
}
