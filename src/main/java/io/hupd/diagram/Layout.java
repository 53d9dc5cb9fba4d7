package io.hupd.diagram;

import io.hupd.machine.Phase;
import io.hupd.machine.UpdateState;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Where each state goes on a grid: the happy path down column 0, the states an update only reaches when
 * something goes wrong in column 1 (still working: reverting, rolling back) and column 2 (their results), each
 * on the row of the states that lead to it, so that failure arrows run sideways and never cross the happy path.
 */
final class Layout {
    record Cell(int column, int row) {}

    private final Map<UpdateState, Cell> cells = new EnumMap<>(UpdateState.class);
    private final int rows;

    Layout(MachineModel model) {
        List<UpdateState> path = model.happyPath();
        for (int i = 0; i < path.size(); i++) {
            cells.put(path.get(i), new Cell(0, i));
        }
        List<UpdateState> side = new ArrayList<>(model.states());
        side.removeAll(path);
        // Working states first, so that results can sit beside the state that produces them; among them the
        // ones with fewer ways in first, as they have the fewest rows that suit them.
        side.sort(java.util.Comparator.comparing((UpdateState s) -> s.phase() == Phase.DONE)
                .thenComparing(s -> model.edges().stream().filter(e -> e.to() == s && !e.selfLoop()).count()));
        int maxRow = path.size() - 1;
        List<UpdateState> pending = new ArrayList<>(side);
        while (!pending.isEmpty()) {
            UpdateState next = null;
            List<Integer> predRows = null;
            for (UpdateState s : pending) {
                List<Integer> r = predecessorRows(model, s);
                if (!r.isEmpty()) {
                    next = s;
                    predRows = r;
                    break;
                }
            }
            if (next == null) {
                // Unreachable from anything placed: park it below the rest rather than fail the build.
                next = pending.get(0);
                predRows = List.of(maxRow + 1);
            }
            Collections.sort(predRows);
            int want = predRows.get((predRows.size() - 1) / 2);
            int column = next.phase() == Phase.DONE ? 2 : 1;
            while (taken(column, want)) {
                want++;
            }
            cells.put(next, new Cell(column, want));
            maxRow = Math.max(maxRow, want);
            pending.remove(next);
        }
        this.rows = maxRow + 1;
    }

    private List<Integer> predecessorRows(MachineModel model, UpdateState s) {
        List<Integer> rows = new ArrayList<>();
        for (MachineModel.Edge e : model.edges()) {
            if (e.to() == s && !e.selfLoop() && cells.containsKey(e.from()) && e.from().phase() != Phase.DONE) {
                rows.add(cells.get(e.from()).row());
            }
        }
        return rows;
    }

    private boolean taken(int column, int row) {
        return cells.values().stream().anyMatch(c -> c.column() == column && c.row() == row);
    }

    Cell cell(UpdateState s) {
        return cells.get(s);
    }

    int rows() {
        return rows;
    }
}
