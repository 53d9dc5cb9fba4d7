package io.hupd.cli;

import io.hupd.ports.UserInputException;
import io.hupd.runner.DeviceBusyException;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The hupd command line (the contract is ../shared/design/CLI.md: names, options, exit codes, JSON fields).
 *
 * <p>The subcommands are added by {@link #run} rather than listed in the annotation: picocli builds the model of
 * every listed command by reflection before it parses anything, which was about half of a {@code hupd status}.
 */
@Command(name = "hupd", mixinStandardHelpOptions = true, version = "hupd 0.1.0",
        description = "Host OS update service: A/B updates with automatic rollback.")
public final class Main implements Runnable {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int BAD_COMMAND_LINE = 2;
    public static final int BUSY = 9;

    /** Every subcommand, in the order the top-level help lists them. */
    static final List<Class<?>> COMMANDS = List.of(DeviceCommand.class, ImageCommand.class, UpdateCommand.class,
            BootCommand.class, RebootCommand.class, CleanShutdownCommand.class, AbortCommand.class, StatusCommand.class,
            HistoryCommand.class, DiagramCommand.class, ServeCommand.class, DaemonCommand.class, DemoCommand.class,
            DeltaCommand.class);

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "a command is required");
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs one command line and returns its exit code (tests call this in-process). */
    public static int run(String... args) {
        boolean debug = java.util.Arrays.asList(args).contains("--debug");
        CommandLine cl = commandLine(args);
        cl.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("hupd: " + ex.getMessage() + " (see '" + ex.getCommandLine().getCommandSpec().qualifiedName()
                    + " --help')");
            return BAD_COMMAND_LINE;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            PrintWriter err = c.getErr();
            Failure f = failure(ex);
            err.println("hupd: " + f.message());
            if (debug) {
                ex.printStackTrace(err);
            }
            err.flush();
            return f.code();
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            // the caps on what hupd reads should make this unreachable; if not, one line and no stack trace
            System.err.println("hupd: out of memory (" + e.getMessage() + "); nothing more was done");
            return FAILED;
        }
    }

    /**
     * The model for one command line: when it starts with a subcommand's name, that subcommand alone is built
     * (what a parse could reach from there is the same); anything else (help, version, no or an unknown command)
     * gets all of them, so that the help and picocli's errors list every command as before.
     */
    static CommandLine commandLine(String... args) {
        CommandLine cl = new CommandLine(new Main());
        String first = args.length > 0 ? args[0] : null;
        for (Class<?> c : COMMANDS) {
            String name = c.getAnnotation(Command.class).name();
            if (first == null || !isCommandName(first) || name.equals(first)) {
                cl.addSubcommand(name, new CommandLine(c));
            }
        }
        return cl;
    }

    private static boolean isCommandName(String arg) {
        for (Class<?> c : COMMANDS) {
            if (c.getAnnotation(Command.class).name().equals(arg)) {
                return true;
            }
        }
        return false;
    }

    /** What a command that threw prints (after {@code hupd: }) and exits with. */
    record Failure(int code, String message) {}

    static Failure failure(Throwable ex) {
        if (ex instanceof DeviceBusyException) {
            return new Failure(BUSY, oneLine(ex.getMessage()));
        }
        if (ex instanceof java.nio.file.FileSystemException fs) {
            return new Failure(FAILED, oneLine(fileProblem(fs)));
        }
        if (ex instanceof UserInputException || ex instanceof java.io.IOException) {
            return new Failure(FAILED, oneLine(ex.getMessage()));
        }
        if (ex instanceof InterruptedException) {
            return new Failure(FAILED, "interrupted");
        }
        return new Failure(FAILED, oneLine("internal error: " + ex + " (rerun with --debug for details)"));
    }

    /**
     * The JDK's file errors carry the file and leave out what went wrong ({@code NoSuchFileException: /proc/nope});
     * the user gets both, and the other file when there is one.
     */
    static String fileProblem(java.nio.file.FileSystemException e) {
        String what = e instanceof java.nio.file.NoSuchFileException ? "no such file or folder"
                : e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                : e instanceof java.nio.file.FileAlreadyExistsException ? "already exists"
                : e instanceof java.nio.file.NotDirectoryException ? "not a folder"
                : e instanceof java.nio.file.DirectoryNotEmptyException ? "the folder is not empty"
                : e.getReason() != null ? e.getReason().toLowerCase(java.util.Locale.ROOT) : "cannot be used";
        String file = e.getFile() == null ? "a file" : e.getFile();
        return file + (e.getOtherFile() == null ? "" : " (with " + e.getOtherFile() + ")") + ": " + what;
    }

    /**
     * Text from the user or a device fit for a one-line message: control and invisible formatting characters
     * (line breaks, terminal escapes, bidirectional overrides) become '?'; letters of any script stay as they are.
     */
    static String printable(String s) {
        String t = s.replaceAll("[\\p{Cc}\\p{Cf}\\p{Co}\\p{Cn}\\p{Zl}\\p{Zp}]", "?");
        return t.length() > 60 ? t.substring(0, 57) + "..." : t;
    }

    static String oneLine(String s) {
        if (s == null) {
            return "unknown error";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
