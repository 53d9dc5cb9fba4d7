package io.hupd.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.testkit.Cli;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Main builds only the subcommand a command line names (start-up time); everything else must still see all of
 * them, in the order of the help, exactly as when picocli built them all.
 */
class CommandModelTest {
    private static final List<String> ALL = List.of("device", "image", "update", "boot", "reboot", "clean-shutdown",
            "abort", "status", "history", "diagram", "serve", "daemon", "demo", "delta");

    private static List<String> built(String... args) {
        return List.copyOf(Main.commandLine(args).getSubcommands().keySet());
    }

    @Test
    void aCommandLineThatNamesACommandBuildsThatOneOnly() {
        assertEquals(List.of("status"), built("status", "--device", "d"));
        assertEquals(List.of("device"), built("device", "create", "--help"));
        assertEquals(List.of("boot"), built("boot"));
    }

    @Test
    void helpVersionNothingAndUnknownCommandsSeeEveryCommandInOrder() {
        for (String[] args : new String[][] {{}, {"--help"}, {"-h"}, {"--version"}, {"stat"}, {"STATUS"},
                {"--debug", "status"}, {"-x"}}) {
            assertEquals(ALL, built(args), String.join(" ", args));
        }
    }

    @Test
    void theTopLevelHelpListsEveryCommand() {
        Cli.Run help = Cli.hupd("--help");
        assertEquals(0, help.code());
        int at = 0;
        for (String name : ALL) {
            int i = help.out().indexOf("\n  " + name + " ", at);
            assertTrue(i > at, name + " missing or out of order in:\n" + help.out());
            at = i;
        }
    }

    @Test
    void aSubcommandErrorNamesItsQualifiedCommand() {
        Cli.Run run = Cli.hupd("status", "--device");
        assertEquals(Main.BAD_COMMAND_LINE, run.code());
        assertTrue(run.err().startsWith("hupd: ") && run.err().contains("(see 'hupd status --help')"), run.err());
        Cli.Run unknown = Cli.hupd("stat");
        assertEquals(Main.BAD_COMMAND_LINE, unknown.code());
        assertTrue(unknown.err().contains("'stat' (see 'hupd --help')"), unknown.err());
    }

    @Test
    void theSubcommandsTheHelpListsAreTheAnnotatedNames() {
        assertEquals(ALL, Main.COMMANDS.stream().map(c -> c.getAnnotation(CommandLine.Command.class).name()).toList());
    }

    @Test
    void everyCommandAndSubcommandPrintsItsHelp() {
        List<List<String>> paths = new java.util.ArrayList<>();
        collect(Main.commandLine("--help"), List.of(), paths);
        assertTrue(paths.size() > ALL.size(), "subcommands of subcommands are walked too: " + paths);
        for (List<String> path : paths) {
            List<String> args = new java.util.ArrayList<>(path);
            args.add("--help");
            Cli.Run run = Cli.hupd(args.toArray(String[]::new));
            assertEquals(0, run.code(), String.join(" ", args) + ": " + run.err());
            assertTrue(run.out().startsWith("Usage: hupd " + String.join(" ", path)), run.out());
        }
    }

    private static void collect(CommandLine cl, List<String> path, List<List<String>> out) {
        for (var e : cl.getSubcommands().entrySet()) {
            List<String> p = new java.util.ArrayList<>(path);
            p.add(e.getKey());
            out.add(p);
            collect(e.getValue(), p, out);
        }
    }
}
