package io.hupd.adapters.sim;

import io.hupd.adapters.sim.Ext4Image.Entry;
import io.hupd.adapters.sim.Ext4Image.Type;
import io.hupd.health.HealthCheck;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

/**
 * rollback-health's checks on the simulated device. They break the same ways balena's own rollback tests break a
 * new OS (engine or VPN binary removed, emptied or pointed at /dev/null; a board check that fails), so the
 * simulated device can rehearse a health rollback without a container engine.
 */
public final class SimHealthChecks {
    static final String ENGINE = "/usr/bin/balena-engine";
    static final String OPENVPN = "/usr/sbin/openvpn";
    static final String BOARD = "/usr/bin/rollback-board-healthcheck";
    /** Same bound as Linux's nested-link limit for one lookup, which keeps a link cycle from looping. */
    static final int MAX_LINK_DEPTH = 8;
    private static final long MAX_BOARD_SCRIPT = 1024 * 1024;
    private static final long MAX_STATUS_FILE = 4096;
    private static final Pattern FAIL_WORD = Pattern.compile("\\bfail\\b", Pattern.CASE_INSENSITIVE);

    private SimHealthChecks() {}

    public static List<HealthCheck> forBootedRoot(Ext4Image root, Path runDir, boolean vpnWasOnline) {
        List<HealthCheck> checks = new ArrayList<>();
        checks.add(required("engine", () -> program(root, ENGINE)));
        checks.add(required("supervisor", () -> supervisor(runDir)));
        // balena only holds the VPN against the new OS when it was up before the update.
        if (vpnWasOnline) {
            checks.add(required("vpn", () -> program(root, OPENVPN)));
        }
        checks.add(required("board", () -> board(root)));
        try {
            checks.addAll(folderChecks(root));
        } catch (IOException e) {
            // An unreadable folder of checks must not read as "no extra checks": it fails, with the reason.
            String why = e.getMessage();
            checks.add(required("health.d", () -> HealthCheck.Result.fail("cannot list " + CHECK_FOLDER + ": " + why)));
        }
        return List.copyOf(checks);
    }

    /** The folder of extra checks in the booted root, greenboot's layout (see docs/health-checks.md). */
    public static final String CHECK_FOLDER = "/etc/hupd/health.d";
    private static final long MAX_CHECK_FILE = 4096;

    /**
     * One check per file in {@code required.d/} and {@code wanted.d/}, in name order. The simulated device never
     * runs code from an image, so a file states its result instead of computing it: its first line that is not
     * blank and not a '#' comment (a shebang may come first) is {@code pass}, {@code pass: message},
     * {@code fail}, {@code fail: message}, or {@code hang} — the check never returns, as a real one stuck on a
     * dead socket would, and only the runner's per-check time limit ends it. Anything else fails, saying so:
     * a check that cannot be understood must not pass. Hidden files (editor leftovers) are not checks.
     */
    static List<HealthCheck> folderChecks(Ext4Image root) throws IOException {
        List<HealthCheck> out = new ArrayList<>();
        for (HealthCheck.Kind kind : HealthCheck.Kind.values()) {
            String sub = (kind == HealthCheck.Kind.REQUIRED ? "required.d" : "wanted.d");
            for (String name : root.list(CHECK_FOLDER + "/" + sub).orElse(List.of())) {
                if (name.startsWith(".")) {
                    continue;
                }
                String path = CHECK_FOLDER + "/" + sub + "/" + name;
                out.add(check(sub + "/" + name, kind, () -> declared(root, path)));
            }
        }
        return out;
    }

    /** What a check file of the simulated convention says. */
    static HealthCheck.Result declared(Ext4Image root, String path) throws IOException, InterruptedException {
        Resolved r = resolve(root, path);
        if (r.devNull() || r.unreadable() || r.tooDeep() || r.entry().isEmpty()
                || r.entry().get().type() != Type.FILE) {
            return HealthCheck.Result.fail(r.describe(path, "not a check file (a regular file is expected)"));
        }
        if (r.entry().get().size() > MAX_CHECK_FILE) {
            return HealthCheck.Result.fail(path + " is " + r.entry().get().size() + " bytes, more than the "
                    + MAX_CHECK_FILE + " a simulated check may have");
        }
        String text = new String(root.readFile(r.at(), MAX_CHECK_FILE).orElse(new byte[0]), StandardCharsets.UTF_8);
        String verdict = text.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .findFirst().orElse("");
        String word = verdict.split("[\\s:]", 2)[0];
        String message = verdict.length() > word.length() ? verdict.substring(word.length()).replaceFirst("^\\s*:?\\s*", "")
                : "";
        switch (word) {
            case "pass":
                return HealthCheck.Result.pass(message.isEmpty() ? path + " passes" : message);
            case "fail":
                return HealthCheck.Result.fail(message.isEmpty() ? path + " fails" : message);
            case "hang":
                // Sleeps until the runner gives up on it and interrupts this thread.
                Thread.sleep(Long.MAX_VALUE);
                return HealthCheck.Result.fail(path + " woke up from a hang");
            default:
                return HealthCheck.Result.fail(path + " does not follow the simulated check convention (its first"
                        + " line must be pass, fail: message or hang): " + (verdict.isEmpty() ? "it is empty"
                        : "\"" + firstLine(verdict) + "\""));
        }
    }

    /** Where a path ends up after its symlinks, and how it got there (the link targets as written). */
    private record Resolved(Optional<Entry> entry, String at, List<String> hops, boolean devNull, boolean tooDeep,
            boolean unreadable) {
        String describe(String path, String what) {
            if (hops.isEmpty()) {
                return path + " is " + what;
            }
            String chain = path + " is a symlink to " + String.join(" -> ", hops);
            return devNull ? chain : chain + ", which is " + what;
        }
    }

    /**
     * Follows symlinks inside the image. Relative targets are joined to the link's folder without folding "..",
     * so debugfs resolves them against the real directories (a folder that is itself a link included), as the
     * kernel would on the device.
     */
    static Resolved resolve(Ext4Image root, String path) throws IOException {
        String at = path;
        List<String> hops = new ArrayList<>();
        for (int depth = 0; ; depth++) {
            Optional<Entry> e;
            try {
                e = root.stat(at);
            } catch (IllegalArgumentException unsafe) {
                return new Resolved(Optional.empty(), at, hops, false, false, true);
            }
            if (e.isEmpty() || e.get().type() != Type.SYMLINK) {
                return new Resolved(e, at, hops, false, false, false);
            }
            if (depth == MAX_LINK_DEPTH) {
                return new Resolved(e, at, hops, false, true, false);
            }
            String target = e.get().symlinkTarget();
            hops.add(target);
            String next = target.startsWith("/") ? target : parent(at) + "/" + target;
            if (lexicallyNormal(next).equals("/dev/null")) {
                return new Resolved(Optional.empty(), next, hops, true, false, false);
            }
            at = next;
        }
    }

    /** engine and vpn: the program must be there, non-empty, and not neutralised by a link to /dev/null. */
    private static HealthCheck.Result program(Ext4Image root, String path) throws IOException {
        Resolved r = resolve(root, path);
        if (r.devNull()) {
            return HealthCheck.Result.fail(r.describe(path, "/dev/null"));
        }
        if (r.unreadable()) {
            return HealthCheck.Result.fail(r.describe(path, "a path that cannot be looked up"));
        }
        if (r.tooDeep()) {
            return HealthCheck.Result.fail(r.describe(path, "a symlink again (more than " + MAX_LINK_DEPTH
                    + " levels of symlinks)"));
        }
        if (r.entry().isEmpty()) {
            return HealthCheck.Result.fail(r.describe(path, "missing"));
        }
        Entry e = r.entry().get();
        return switch (e.type()) {
            case FILE -> e.size() == 0
                    ? HealthCheck.Result.fail(r.describe(path, "empty"))
                    : HealthCheck.Result.pass(r.describe(path, "present (" + e.size() + " bytes)"));
            case DIRECTORY -> HealthCheck.Result.fail(r.describe(path, "a directory, not a program"));
            default -> HealthCheck.Result.fail(r.describe(path, "not a regular file"));
        };
    }

    /** What run/supervisor says on a device with no supervisor at all. */
    public static final String NOT_INSTALLED = "not-installed";

    /** The simulated supervisor reports its state in run/supervisor. */
    private static HealthCheck.Result supervisor(Path runDir) throws IOException {
        Path f = runDir.resolve("supervisor");
        String state;
        try (InputStream in = Files.newInputStream(f)) {
            byte[] head = in.readNBytes((int) MAX_STATUS_FILE + 1);
            state = new String(head, StandardCharsets.UTF_8).strip();
            if (head.length > MAX_STATUS_FILE) {
                return HealthCheck.Result.fail("supervisor is not running (run/supervisor holds more than "
                        + MAX_STATUS_FILE + " bytes)");
            }
        } catch (NoSuchFileException e) {
            return HealthCheck.Result.fail("supervisor is not running (no run/supervisor)");
        }
        if (state.equals("running")) {
            return HealthCheck.Result.pass("supervisor is running");
        }
        if (state.equals(NOT_INSTALLED)) {
            // a device that never had a supervisor (an image without one): there is nothing to judge
            return HealthCheck.Result.pass("no supervisor is installed on this device");
        }
        String shown = state.isEmpty() ? "nothing" : "\"" + firstLine(state) + "\"";
        return HealthCheck.Result.fail("supervisor is not running (run/supervisor says " + shown + ")");
    }

    /** An absent board check passes, as balena's default one does; a present one fails on the word "fail". */
    private static HealthCheck.Result board(Ext4Image root) throws IOException {
        Resolved r = resolve(root, BOARD);
        if (r.devNull()) {
            return HealthCheck.Result.pass(r.describe(BOARD, "/dev/null") + " (nothing to check)");
        }
        if (r.unreadable() || r.tooDeep()) {
            return HealthCheck.Result.fail(r.describe(BOARD, "a path that cannot be followed"));
        }
        if (r.entry().isEmpty()) {
            return HealthCheck.Result.pass(r.describe(BOARD, "missing") + " (nothing to check)");
        }
        if (r.entry().get().type() != Type.FILE) {
            return HealthCheck.Result.fail(r.describe(BOARD, "not a regular file"));
        }
        if (r.entry().get().size() > MAX_BOARD_SCRIPT) {
            return HealthCheck.Result.fail(r.describe(BOARD, r.entry().get().size() + " bytes, more than the "
                    + MAX_BOARD_SCRIPT + " a board check may have"));
        }
        byte[] content = root.readFile(r.at(), MAX_BOARD_SCRIPT).orElse(new byte[0]);
        String text = new String(content, StandardCharsets.UTF_8);
        var m = FAIL_WORD.matcher(text);
        if (m.find()) {
            int lineStart = text.lastIndexOf('\n', m.start()) + 1;
            int lineEnd = text.indexOf('\n', m.start());
            String line = text.substring(lineStart, lineEnd < 0 ? text.length() : lineEnd).strip();
            return HealthCheck.Result.fail(BOARD + " reports failure: " + line);
        }
        return HealthCheck.Result.pass(BOARD + " passes");
    }

    private static String parent(String p) {
        int slash = p.lastIndexOf('/');
        return slash <= 0 ? "" : p.substring(0, slash);
    }

    /** Only for recognising /dev/null; lookups keep ".." so that folder links are honoured. */
    static String lexicallyNormal(String p) {
        List<String> parts = new ArrayList<>();
        for (String s : p.split("/")) {
            if (s.isEmpty() || s.equals(".")) {
                continue;
            }
            if (s.equals("..")) {
                if (!parts.isEmpty()) {
                    parts.remove(parts.size() - 1);
                }
                continue;
            }
            parts.add(s);
        }
        return "/" + String.join("/", parts);
    }

    private static String firstLine(String s) {
        String l = s.lines().findFirst().orElse("");
        return l.length() > 80 ? l.substring(0, 80) + "…" : l;
    }

    private static HealthCheck required(String name, Callable<HealthCheck.Result> body) {
        return check(name, HealthCheck.Kind.REQUIRED, body);
    }

    private static HealthCheck check(String name, HealthCheck.Kind kind, Callable<HealthCheck.Result> body) {
        return new HealthCheck() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Kind kind() {
                return kind;
            }

            @Override
            public Result run() throws Exception {
                return body.call();
            }

            @Override
            public String toString() {
                return name;
            }
        };
    }
}
