package io.hupd.adapters.sim;

import io.hupd.fs.Commands;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finding the e2fsprogs tools and reading what they say: the environment they run in, where each is installed,
 * and the one line of their stderr worth reporting. Shared by the slot's formatting ({@link Ext4Image}) and its
 * reading ({@link DebugfsReader}), which must run the tools the same way for the parsing to hold.
 */
final class E2fsTools {
    private E2fsTools() {
    }

    /*
     * e2fsprogs messages are translated through gettext; the parsing below only works on the C locale. The pager
     * variables keep debugfs from ever handing its output to a pager.
     */
    static final Map<String, String> TOOL_ENV = Map.of(
            "LC_ALL", "C", "LANG", "C", "LANGUAGE", "C", "PAGER", "__none__", "DEBUGFS_PAGER", "__none__");

    private static final Map<String, String> TOOL_PATHS = new ConcurrentHashMap<>();

    static String toolError(Commands.Result r, String tool) {
        String e = firstRealLine(r.stderr(), tool);
        return e != null ? e : "exit code " + r.exitCode();
    }

    /** The first stderr line that is not the tool's version banner, with the tool's own prefix taken off. */
    static String firstRealLine(String stderr, String tool) {
        for (String line : stderr.split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.matches("\\S+ \\d+\\.\\d+(\\.\\d+)* \\(.*\\)")) {
                continue;
            }
            if (l.startsWith(tool + ": ")) {
                l = l.substring(tool.length() + 2);
            }
            return l;
        }
        return null;
    }

    /** mkfs prints its own summary last ("mkfs.ext4: ... while populating"); the lines before are details. */
    static String mkfsError(Commands.Result r) {
        String last = null;
        for (String line : r.stderr().split("\n")) {
            if (line.startsWith("mkfs.ext4: ")) {
                last = line.substring("mkfs.ext4: ".length()).strip();
            }
        }
        return last != null ? last : toolError(r, "mkfs.ext4");
    }

    /** e2fsprogs live in /usr/sbin, which is not on every user's PATH. */
    static String tool(String name) {
        return TOOL_PATHS.computeIfAbsent(name, n -> {
            List<String> dirs = new ArrayList<>();
            String path = System.getenv("PATH");
            if (path != null) {
                dirs.addAll(List.of(path.split(java.io.File.pathSeparator)));
            }
            dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
            for (String d : dirs) {
                if (d.isEmpty()) {
                    continue;
                }
                Path candidate = Path.of(d, n);
                if (Files.isExecutable(candidate)) {
                    return candidate.toString();
                }
            }
            return n;
        });
    }
}
