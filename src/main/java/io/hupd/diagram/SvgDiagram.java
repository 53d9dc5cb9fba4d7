package io.hupd.diagram;

import io.hupd.machine.Phase;
import io.hupd.machine.UpdateEvent;
import io.hupd.machine.UpdateState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The diagram as SVG, laid out here rather than by PlantUML or Graphviz: the output is the same on every machine
 * (no font measurement, no layout engine version), so the committed file can be checked byte for byte, and every
 * state and arrow carries a stable id ({@code s-STATE}, {@code e-FROM--TO}) for the status page to light up.
 */
final class SvgDiagram {
    private static final int BOX_W = 200;
    private static final int BOX_H = 30;
    private static final int ROW = 62;
    private static final int TOP = 70;
    private static final int COL0 = 300;
    private static final int COL1 = COL0 + BOX_W + 340;
    private static final int COL2 = COL1 + BOX_W + 150;
    private static final int COMMIT_GAP = 26;
    private static final int LINE = 12;

    private final MachineModel m;
    private final Layout layout;
    private final int commitRow;
    private final StringBuilder edges = new StringBuilder();
    private final StringBuilder labels = new StringBuilder();
    private final StringBuilder nodes = new StringBuilder();
    private final Map<UpdateState, Integer> labelsAtSource = new java.util.EnumMap<>(UpdateState.class);
    private final Map<UpdateState, Integer> labelsBelowTarget = new java.util.EnumMap<>(UpdateState.class);

    private SvgDiagram(MachineModel m) {
        this.m = m;
        this.layout = new Layout(m);
        this.commitRow = layout.cell(m.commitPoint()).row();
    }

    static String render(MachineModel m) {
        return new SvgDiagram(m).svg();
    }

    private int x(UpdateState s) {
        return switch (layout.cell(s).column()) {
            case 0 -> COL0;
            case 1 -> COL1;
            default -> COL2;
        };
    }

    private int y(UpdateState s) {
        return rowY(layout.cell(s).row());
    }

    private int rowY(int row) {
        return TOP + row * ROW + (row > commitRow ? COMMIT_GAP : 0);
    }

    private int midY(UpdateState s) {
        return y(s) + BOX_H / 2;
    }

    private String svg() {
        int width = COL2 + BOX_W + 80;
        int bottom = rowY(layout.rows() - 1) + BOX_H;
        int height = bottom + 90;
        for (UpdateState s : m.states()) {
            node(s);
        }
        Map<String, List<MachineModel.Edge>> groups = new LinkedHashMap<>();
        for (MachineModel.Edge e : m.edges()) {
            if (e.selfLoop()) {
                selfLoop(e);
            } else if (m.onHappyPath(e)) {
                straightDown(e);
            } else if (isNewUpdate(e)) {
                newUpdate(e, width, bottom);
            } else if (layout.cell(e.from()).column() == layout.cell(e.to()).column()) {
                sameColumn(e);
            } else {
                sideways(e);
                groups.computeIfAbsent(e.to() + "|" + e.labels(), k -> new ArrayList<>()).add(e);
            }
        }
        for (List<MachineModel.Edge> g : groups.values()) {
            sidewaysLabel(g);
        }

        StringBuilder sb = new StringBuilder();
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ").append(width).append(' ').append(height)
                .append("\" width=\"").append(width).append("\" height=\"").append(height)
                .append("\" font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" class=\"hupd-machine\">\n");
        // Not an XML comment: the note holds "--", which comments may not.
        sb.append("<desc>").append(esc(Diagrams.GENERATED_NOTE)).append("</desc>\n");
        sb.append(STYLE);
        sb.append("<rect class=\"bg\" x=\"0\" y=\"0\" width=\"").append(width).append("\" height=\"").append(height)
                .append("\"/>\n");
        sb.append("<text class=\"title\" x=\"20\" y=\"28\">hupd update machine</text>\n");
        commitLine(sb, width);
        sb.append("<g class=\"edges\">\n").append(edges).append("</g>\n");
        sb.append("<g class=\"states\">\n").append(nodes).append("</g>\n");
        sb.append("<g class=\"labels\">\n").append(labels).append("</g>\n");
        legend(sb, bottom + 40);
        sb.append("</svg>\n");
        return sb.toString();
    }

    private void node(UpdateState s) {
        int x = x(s);
        int y = y(s);
        String kind = PlantUml.stereotype(m, s);
        nodes.append("<g class=\"state k-").append(kind).append("\" id=\"s-").append(s.name())
                .append("\" data-state=\"").append(s.name()).append("\">");
        nodes.append("<title>").append(s.name()).append(" (").append(phaseText(s.phase())).append(")</title>");
        nodes.append("<rect x=\"").append(x).append("\" y=\"").append(y).append("\" width=\"").append(BOX_W)
                .append("\" height=\"").append(BOX_H).append("\" rx=\"8\"/>");
        if (s == m.commitPoint()) {
            nodes.append("<rect class=\"commit-ring\" x=\"").append(x - 4).append("\" y=\"").append(y - 4)
                    .append("\" width=\"").append(BOX_W + 8).append("\" height=\"").append(BOX_H + 8)
                    .append("\" rx=\"11\"/>");
        }
        nodes.append("<text x=\"").append(x + BOX_W / 2).append("\" y=\"").append(y + 19)
                .append("\" text-anchor=\"middle\">").append(s.name()).append("</text></g>\n");
        if (s == m.initial()) {
            int cx = x + BOX_W / 2;
            nodes.append("<circle class=\"start\" cx=\"").append(cx).append("\" cy=\"").append(y - 24)
                    .append("\" r=\"6\"/>");
            edges.append("<path class=\"plain\" d=\"M").append(cx).append(',').append(y - 18).append(" V")
                    .append(y - 2).append("\" marker-end=\"url(#arrow)\"/>\n");
        }
    }

    private void openEdge(MachineModel.Edge e, String extraClass) {
        edges.append("<g class=\"edge").append(extraClass).append("\" id=\"e-").append(e.id())
                .append("\" data-from=\"").append(e.from().name()).append("\" data-to=\"").append(e.to().name())
                .append("\"><title>").append(esc(e.from().name() + " -> " + e.to().name() + ": "
                        + String.join(", ", e.labels()))).append("</title>");
    }

    private void path(String d) {
        edges.append("<path d=\"").append(d).append("\" marker-end=\"url(#arrow)\"/></g>\n");
    }

    private void straightDown(MachineModel.Edge e) {
        int cx = x(e.from()) + BOX_W / 2;
        int y1 = y(e.from()) + BOX_H;
        int y2 = y(e.to());
        openEdge(e, " happy");
        path("M" + cx + "," + y1 + " V" + (y2 - 2));
        // Just below the source, so that the commit line between two rows never runs through it.
        text(labels, cx + 8, y1 + 19, "start", e.labels());
    }

    private void selfLoop(MachineModel.Edge e) {
        int x = x(e.from());
        int y = y(e.from());
        openEdge(e, " loop");
        if (layout.cell(e.from()).column() == 0) {
            int my = y + BOX_H / 2;
            path("M" + x + "," + (my - 7) + " C" + (x - 46) + "," + (my - 26) + " " + (x - 46) + "," + (my + 26) + " "
                    + (x - 2) + "," + (my + 7));
            List<String> ls = e.labels();
            text(labels, x - 50, my + 4 - (ls.size() - 1) * LINE / 2, "end", ls);
        } else {
            int x1 = x + BOX_W - 60;
            int x2 = x + BOX_W - 16;
            path("M" + x1 + "," + y + " C" + x1 + "," + (y - 30) + " " + x2 + "," + (y - 30) + " " + x2 + ","
                    + (y - 2));
            List<String> ls = e.labels();
            text(labels, x2 + 8, y - 16 - (ls.size() - 1) * LINE, "start", ls);
        }
    }

    /** START from a result back to the first state: a new update. Routed around everything on the right. */
    private boolean isNewUpdate(MachineModel.Edge e) {
        return e.from().phase() == Phase.DONE && e.transitions().stream().allMatch(t -> t.event() == UpdateEvent.START);
    }

    private void newUpdate(MachineModel.Edge e, int width, int bottom) {
        int bus = width - 40;
        int topY = y(m.initial()) + BOX_H + 6;
        int cx = COL0 + BOX_W / 2;
        String start;
        if (layout.cell(e.from()).column() == 2) {
            start = "M" + (x(e.from()) + BOX_W) + "," + midY(e.from()) + " H" + bus;
        } else {
            int below = bottom + 16;
            start = "M" + (x(e.from()) + BOX_W / 2) + "," + (y(e.from()) + BOX_H) + " V" + below + " H" + bus;
        }
        openEdge(e, " again");
        path(start + " V" + topY + " H" + (cx + 6) + " Q" + cx + "," + topY + " " + cx + "," + (topY + 6) + " V"
                + (y(e.to()) - 2));
        if (!labels.toString().contains("class=\"again-label\"")) {
            labels.append("<text class=\"again-label\" x=\"").append(bus - 8).append("\" y=\"").append(topY - 6)
                    .append("\" text-anchor=\"end\">").append(esc(String.join(", ", e.labels())))
                    .append(" (a new update, from any result)</text>\n");
        }
    }

    private void sameColumn(MachineModel.Edge e) {
        int x = x(e.from()) + BOX_W;
        int y1 = midY(e.from()) + 4;
        int y2 = midY(e.to()) + 4;
        openEdge(e, "");
        path("M" + x + "," + y1 + " C" + (x + 70) + "," + y1 + " " + (x + 70) + "," + y2 + " " + (x + 2) + "," + y2);
        // Inside the bulge: outside it is where the failure arrows and their labels run.
        text(labels, x + 8, (y1 + y2) / 2 + 4, "start", e.labels());
    }

    private void sideways(MachineModel.Edge e) {
        int x1 = x(e.from()) + BOX_W;
        int y1 = midY(e.from());
        int x2 = x(e.to());
        int y2 = midY(e.to());
        int dx = (x2 - x1) / 2;
        openEdge(e, " side");
        path("M" + x1 + "," + y1 + " C" + (x1 + dx) + "," + y1 + " " + (x2 - dx) + "," + y2 + " " + (x2 - 2) + ","
                + y2);
    }

    /**
     * A set of identical arrows from several states is labelled once, under the state they lead to, naming
     * where they come from; a single arrow is labelled where it leaves its state.
     */
    private void sidewaysLabel(List<MachineModel.Edge> group) {
        List<MachineModel.Edge> g = new ArrayList<>(group);
        g.sort(java.util.Comparator.comparingInt(e -> layout.cell(e.from()).row()));
        MachineModel.Edge first = g.get(0);
        if (g.size() == 1) {
            List<String> lines = first.labels();
            int x1 = x(first.from()) + BOX_W;
            int used = labelsAtSource.getOrDefault(first.from(), 0);
            int ty = midY(first.from()) - 6 - (lines.size() - 1 + used) * LINE;
            // Clear of the arrows that bulge out to the right of the happy path.
            text(labels, x1 + 84, ty, "start", lines);
            labelsAtSource.put(first.from(), used + lines.size());
            return;
        }
        List<String> names = g.stream().map(e -> e.from().name()).toList();
        String from = names.size() <= 3 ? String.join(", ", names)
                : names.get(0) + " ... " + names.get(names.size() - 1) + " (" + names.size() + " states)";
        List<String> lines = new ArrayList<>();
        lines.add("from " + from + ":");
        for (String l : first.labels()) {
            lines.add("  " + l);
        }
        UpdateState to = first.to();
        int used = labelsBelowTarget.getOrDefault(to, 0);
        int ty = y(to) + BOX_H + 16 + used * LINE;
        text(labels, x(to), ty, "start", lines);
        labelsBelowTarget.put(to, used + lines.size() + 1);
    }

    private void commitLine(StringBuilder sb, int width) {
        int y = rowY(commitRow) + BOX_H + (ROW - BOX_H + COMMIT_GAP) / 2;
        sb.append("<g class=\"commit-line\"><line x1=\"20\" y1=\"").append(y).append("\" x2=\"").append(width - 20)
                .append("\" y2=\"").append(y).append("\"/>");
        sb.append("<text x=\"24\" y=\"").append(y - 6).append("\">before the commit point</text>");
        sb.append("<text x=\"24\" y=\"").append(y + 15).append("\">after the commit point</text>");
        sb.append("<text x=\"").append(COL1).append("\" y=\"").append(y - 6).append("\">commit point: ")
                .append(m.commitPoint()).append(" switches the boot settings to the new root</text></g>\n");
    }

    private void legend(StringBuilder sb, int y) {
        String[][] items = {{"before", "before the commit point"}, {"commit", "the commit point"},
                {"after", "after it (trial boot)"}, {"ok", "committed"}, {"bad", "revert, rollback, failure"}};
        int x = 20;
        sb.append("<g class=\"legend\">");
        for (String[] it : items) {
            sb.append("<g class=\"state k-").append(it[0]).append("\"><rect x=\"").append(x).append("\" y=\"")
                    .append(y).append("\" width=\"22\" height=\"14\" rx=\"4\"/></g>");
            sb.append("<text x=\"").append(x + 28).append("\" y=\"").append(y + 11).append("\">").append(it[1])
                    .append("</text>");
            x += 48 + it[1].length() * 7;
        }
        sb.append("<text x=\"20\" y=\"").append(y + 36).append("\">Arrows: EVENT [guard] / action. Dashed: a new"
                + " update starting from a result. Hover an arrow for all of its transitions.</text>");
        sb.append("</g>\n");
    }

    private static void text(StringBuilder sb, int x, int y, String anchor, List<String> lines) {
        sb.append("<text class=\"label\" x=\"").append(x).append("\" y=\"").append(y).append("\" text-anchor=\"")
                .append(anchor).append("\">");
        for (int i = 0; i < lines.size(); i++) {
            sb.append("<tspan x=\"").append(x).append("\" dy=\"").append(i == 0 ? 0 : LINE).append("\">")
                    .append(esc(lines.get(i))).append("</tspan>");
        }
        sb.append("</text>\n");
    }

    private static String phaseText(Phase p) {
        return switch (p) {
            case IDLE -> "no update";
            case BEFORE_COMMIT -> "before the commit point";
            case AFTER_COMMIT -> "after the commit point";
            case DONE -> "result";
        };
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static final String STYLE = """
            <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#56606b"/></marker>
            <marker id="arrow-taken" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#d35400"/></marker>
            </defs>
            <style>
            .hupd-machine .bg { fill: #ffffff; }
            .hupd-machine .title { font-size: 18px; font-weight: bold; fill: #222; }
            .hupd-machine .state rect { stroke: #56606b; stroke-width: 1.2; }
            .hupd-machine .state text { font-size: 12px; font-weight: bold; fill: #1d2430; }
            .hupd-machine .k-before rect { fill: #dcebfa; }
            .hupd-machine .k-after rect { fill: #fdebc8; }
            .hupd-machine .k-commit rect { fill: #fdebc8; }
            .hupd-machine .k-commit .commit-ring { fill: none; stroke: #c0392b; stroke-width: 2; }
            .hupd-machine .k-ok rect { fill: #cdefd2; }
            .hupd-machine .k-bad rect { fill: #f8d3d0; }
            .hupd-machine .start { fill: #1d2430; }
            .hupd-machine .edge path, .hupd-machine path.plain { fill: none; stroke: #56606b; stroke-width: 1.2; }
            .hupd-machine .edge.happy path { stroke-width: 2.2; }
            .hupd-machine .edge.side path { stroke: #a93226; stroke-opacity: 0.65; }
            .hupd-machine .edge.again path { stroke-dasharray: 5 4; stroke-opacity: 0.6; }
            .hupd-machine .label, .hupd-machine .again-label { font-size: 10.5px; fill: #34495e; paint-order: stroke; stroke: #ffffff; stroke-width: 3px; stroke-linejoin: round; }
            .hupd-machine .commit-line line { stroke: #c0392b; stroke-width: 1.5; stroke-dasharray: 8 5; }
            .hupd-machine .commit-line text { font-size: 11px; fill: #c0392b; font-weight: bold; }
            .hupd-machine .legend text { font-size: 11px; fill: #34495e; }
            </style>
            """;
}
