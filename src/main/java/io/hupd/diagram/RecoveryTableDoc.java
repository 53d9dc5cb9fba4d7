package io.hupd.diagram;

import io.hupd.machine.Phase;
import io.hupd.machine.RecoveryTable;
import io.hupd.machine.RecoveryTable.Action;
import io.hupd.machine.RecoveryTable.Trigger;
import io.hupd.machine.UpdateState;
import java.util.Map;

/** The recovery table (SPEC §6) as Markdown, read from {@link RecoveryTable} itself. */
final class RecoveryTableDoc {
    private static final Map<Action, String> MEANING = Map.of(
            Action.NOTHING, "nothing: no update in flight",
            Action.RESUME, "run the interrupted state again (RESUME; the attempt limit may revert instead)",
            Action.ASK_BOOT_SETTINGS, "read the boot settings: did the switch happen? then resume or go on",
            Action.VERIFY_BOOT, "verify the trial boot (BOOTED: altboot guard, health, commit)",
            Action.WAIT_FOR_REBOOT, "nothing until the device reboots into the new OS",
            Action.REVERT_UNKNOWN, "revert: a state this hupd does not know, before the commit point");

    private RecoveryTableDoc() {}

    static String render(MachineModel m) {
        Map<UpdateState, Action> power = RecoveryTable.rows(Trigger.POWER_ON);
        Map<UpdateState, Action> restart = RecoveryTable.rows(Trigger.PROCESS_RESTART);
        StringBuilder sb = new StringBuilder();
        sb.append("<!-- ").append(Diagrams.GENERATED_NOTE).append(" -->\n");
        sb.append("# Recovery table\n\n");
        sb.append("What hupd does with the persisted state when it starts again (SPEC §6). *Power-on*: the device"
                + " rebooted and the bootloader chose a root. *Process restart*: hupd died but the OS kept running."
                + " The commit point is `").append(m.commitPoint()).append("`.\n\n");
        sb.append("First, where the device's ground truth (the running root, the boot settings, breadcrumbs and"
                + " leftovers on the disk) overrules or replaces the database:\n\n");
        for (RecoveryTable.Overrule o : RecoveryTable.Overrule.values()) {
            sb.append("- `").append(o).append("`: ").append(o.meaning()).append('\n');
        }
        sb.append("\nThen, per persisted state:\n\n");
        sb.append("| persisted state | phase | on power-on | on process restart |\n");
        sb.append("|---|---|---|---|\n");
        for (UpdateState s : UpdateState.values()) {
            sb.append("| `").append(s).append('`').append(s == m.commitPoint() ? " (commit point)" : "")
                    .append(" | ").append(s.phase()).append(" | ").append(cell(power.get(s))).append(" | ")
                    .append(cell(restart.get(s))).append(" |\n");
        }
        sb.append("\nA state name this hupd does not know (written by a newer hupd before a rollback to an older"
                + " OS) is handled by the phase stored next to it:\n\n");
        sb.append("| phase | on power-on | on process restart |\n");
        sb.append("|---|---|---|\n");
        for (Phase p : Phase.values()) {
            sb.append("| ").append(p).append(" | ")
                    .append(cell(RecoveryTable.actionFor("NOT_A_KNOWN_STATE", p, Trigger.POWER_ON))).append(" | ")
                    .append(cell(RecoveryTable.actionFor("NOT_A_KNOWN_STATE", p, Trigger.PROCESS_RESTART)))
                    .append(" |\n");
        }
        sb.append("\n## Actions\n\n");
        for (Action a : Action.values()) {
            sb.append("- `").append(a).append("`: ").append(MEANING.getOrDefault(a, "(not described)")).append('\n');
        }
        return sb.toString();
    }

    private static String cell(Action a) {
        return a == null ? "(none)" : "`" + a + "`";
    }
}
