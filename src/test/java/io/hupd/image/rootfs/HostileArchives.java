package io.hupd.image.rootfs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * A corpus of hostile layers, each modelled on a known extraction bug (see reliability-facts §5): escapes by
 * '..', absolute names, symlinks and hard links, malformed whiteouts, special files, duplicates, and
 * resource bombs. Every case names the refusal it must produce.
 *
 * <p>Run {@code main} with a folder to write the corpus there for a look with {@code tar tvzf}.
 */
final class HostileArchives {
    /** One attack: its layers (applied in order), the limits it runs under and a piece of the expected error. */
    record Case(String name, List<Path> layers, FlattenLimits limits, String expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Names that an escape would create at the filesystem root; the test checks they never appear. */
    static final String ESCAPE_NAME = "hupd-escape-" + ProcessHandle.current().pid();

    static final long BOMB_BYTES = 1L << 30;
    static final FlattenLimits BOMB_LIMITS = new FlattenLimits(1000, 64L << 20, 4096);
    static final FlattenLimits FEW_ENTRIES = new FlattenLimits(1000, 1L << 30, 4096);

    private HostileArchives() {}

    /**
     * Writes every case's layers under {@code corpus}.
     *
     * @param outside a folder beside the extraction root whose contents an escape would change
     */
    static List<Case> write(Path corpus, Path outside) throws IOException {
        Files.createDirectories(corpus);
        String out = outside.toAbsolutePath().toString();
        List<Case> cases = new ArrayList<>();
        Writer w = new Writer(corpus, cases);

        w.one("dotdot-escape", "'..' component", TarLayer.create().file("../" + ESCAPE_NAME, "x"));
        w.one("dotdot-in-the-middle", "'..' component", TarLayer.create().dir("a").file("a/../../" + ESCAPE_NAME, "x"));
        w.one("absolute-path", "absolute path", TarLayer.create().file("/" + ESCAPE_NAME, "x"));
        w.one("absolute-into-outside", "absolute path", TarLayer.create().file(out + "/sentinel.txt", "pwned"));
        w.one("symlink-escape", "parent 'evil' is a symlink",
                TarLayer.create().symlink("evil", "/tmp/..").file("evil/" + ESCAPE_NAME, "x"));
        w.one("symlink-to-outside-then-write", "parent 'out' is a symlink",
                TarLayer.create().symlink("out", out).file("out/sentinel.txt", "pwned"));
        w.one("symlink-to-inside-dir-then-write", "parent 'link' is a symlink",
                TarLayer.create().dir("d").symlink("link", "d").file("link/file", "x"));
        w.one("symlink-replaces-dir-then-write", "parent 'etc' is a symlink",
                TarLayer.create().dir("etc").file("etc/a", "a"),
                TarLayer.create().symlink("etc", out).file("etc/sentinel.txt", "pwned"));
        w.one("two-layer-symlink-escape", "parent 'x' is a symlink",
                TarLayer.create().symlink("x", "../.."), TarLayer.create().file("x/" + ESCAPE_NAME, "x"));
        w.one("two-layer-symlink-to-outside", "parent 'x' is a symlink",
                TarLayer.create().symlink("x", out), TarLayer.create().file("x/sentinel.txt", "pwned"));
        w.one("symlink-named-dot-replaces-root", "would replace the root", TarLayer.create().symlink(".", out));
        w.one("symlink-named-slash-replaces-root", "would replace the root", TarLayer.create().symlink("/", out));
        w.one("file-named-dot", "would replace the root", TarLayer.create().file(".", "x"));
        w.one("hardlink-dotdot", "is outside the root",
                TarLayer.create().hardlink("passwd", "../../etc/passwd"));
        w.one("hardlink-absolute", "is an absolute path",
                TarLayer.create().hardlink("sentinel", out + "/sentinel.txt"));
        w.one("hardlink-to-symlink", "is not a regular file",
                TarLayer.create().symlink("s", out + "/sentinel.txt").hardlink("h", "s"));
        w.one("hardlink-through-symlink-parent", "parent 's' is a symlink",
                TarLayer.create().symlink("s", out).hardlink("h", "s/sentinel.txt"));
        w.one("hardlink-to-missing", "does not exist", TarLayer.create().hardlink("h", "nothing"));
        w.one("hardlink-to-directory", "is not a regular file", TarLayer.create().dir("d").hardlink("h", "d"));
        w.one("whiteout-dot-dot", "malformed whiteout '.wh...'", TarLayer.create().whiteout(".wh..."));
        w.one("whiteout-dot", "malformed whiteout '.wh..'", TarLayer.create().whiteout("dir/.wh.."));
        w.one("whiteout-bare", "bare whiteout", TarLayer.create().dir("dir").whiteout("dir/.wh."));
        w.one("whiteout-dotdot-parent", "'..' component", TarLayer.create().whiteout("../.wh.x"));
        w.one("whiteout-with-slash", "whiteout name is used as a directory",
                TarLayer.create().whiteout("dir/.wh.a/b"));
        w.one("whiteout-through-symlink", "parent 'x' is a symlink",
                TarLayer.create().symlink("x", out), TarLayer.create().whiteout("x/.wh.sentinel.txt"));
        w.one("opaque-through-symlink", "parent 'x' is a symlink",
                TarLayer.create().symlink("x", out), TarLayer.create().whiteout("x/.wh..wh..opq"));
        w.one("char-device", "device nodes are not allowed",
                TarLayer.create().special("dev/null", TarConstants.LF_CHR));
        w.one("block-device", "device nodes are not allowed",
                TarLayer.create().special("dev/sda", TarConstants.LF_BLK));
        w.one("fifo", "fifos are not allowed", TarLayer.create().special("run/pipe", TarConstants.LF_FIFO));
        w.one("duplicate-entry", "duplicate entry", TarLayer.create().file("a", "1").file("./a", "2"));
        w.one("duplicate-whiteout", "duplicate whiteout", TarLayer.create().whiteout(".wh.a").whiteout(".wh.a"));
        w.one("path-over-limit", "path longer than 4096 bytes",
                TarLayer.create().file(("d".repeat(200) + "/").repeat(25) + "f", "x"));
        w.one("component-over-255", "longer than 255 bytes", TarLayer.create().file("n".repeat(300), "x"));
        w.one("nul-in-name", "NUL", TarLayer.create().file("long-".repeat(30) + "\0tail", "x"));
        w.one("symlink-target-with-nul", "NUL", TarLayer.create().symlink("s", "long-".repeat(30) + "\0tail"));
        w.one("pax-header-bomb", "tar headers larger than", TarLayer.create().paxComment("f", 2 << 20));

        TarLayer many = TarLayer.create();
        for (int i = 0; i < 200_000; i++) {
            many.file("f" + i, new byte[1], 0644);
        }
        w.add("200k-entries-over-limit", "more than 1000 entries in the image", FEW_ENTRIES, many);
        w.add("gzip-bomb", "more than the 67108864-byte limit", BOMB_LIMITS,
                TarLayer.create().zeros("zeros", BOMB_BYTES));
        return cases;
    }

    private static final class Writer {
        final Path corpus;
        final List<Case> cases;

        Writer(Path corpus, List<Case> cases) {
            this.corpus = corpus;
            this.cases = cases;
        }

        void one(String name, String expected, TarLayer... layers) throws IOException {
            add(name, expected, FlattenLimits.DEFAULT, layers);
        }

        void add(String name, String expected, FlattenLimits limits, TarLayer... layers) throws IOException {
            List<Path> files = new ArrayList<>();
            for (int i = 0; i < layers.length; i++) {
                files.add(layers[i].writeGzip(corpus.resolve(name + (layers.length > 1 ? "." + (i + 1) : "")
                        + ".tar.gz")));
            }
            cases.add(new Case(name, files, limits, expected));
        }
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "tests/hostile-archives/generated");
        for (Case c : write(dir, dir.resolve("../outside"))) {
            System.out.println(c.name() + ": " + c.expected());
        }
    }
}
