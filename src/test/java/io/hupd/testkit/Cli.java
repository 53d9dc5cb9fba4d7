package io.hupd.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs one {@code hupd} command in-process, as a user would type it, and keeps what it printed. */
public final class Cli {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What one command printed and returned. */
    public record Run(int code, String out, String err) {
        /** The JSON object the command printed last (with --json). */
        public JsonNode status() throws IOException {
            return JSON.readTree(out.substring(out.indexOf('{')));
        }
    }

    private Cli() {}

    /** Runs a command that must succeed; returns what it printed on standard output. */
    public static String ok(String... args) {
        Run r = hupd(args);
        if (r.code() != Main.OK) {
            throw new AssertionError("hupd " + String.join(" ", args) + " exited " + r.code() + ": " + r.err());
        }
        return r.out();
    }

    public static synchronized Run hupd(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}
