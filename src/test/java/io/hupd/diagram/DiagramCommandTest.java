package io.hupd.diagram;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.cli.Main;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiagramCommandTest {
    @TempDir
    Path tmp;

    private static String stdout(String... args) {
        io.hupd.testkit.Cli.Run r = io.hupd.testkit.Cli.hupd(args);
        assertEquals(Main.OK, r.code(), r.err());
        return r.out();
    }

    @Test
    void eachFormatToStandardOutputOrToAFile() throws Exception {
        MachineModel m = MachineModel.live();
        assertEquals(Diagrams.render(m, Diagrams.Format.PLANTUML), stdout("diagram"));
        assertEquals(Diagrams.render(m, Diagrams.Format.MERMAID), stdout("diagram", "--format", "mermaid"));
        Path out = tmp.resolve("sub/machine.dot");
        stdout("diagram", "--format", "dot", "--output", out.toString());
        assertEquals(Diagrams.render(m, Diagrams.Format.DOT), Files.readString(out));
    }

    @Test
    void allWritesTheFolderAsCommitted() throws Exception {
        Path dir = tmp.resolve("diagrams");
        assertTrue(stdout("diagram", "--all", dir.toString()).startsWith("wrote "));
        for (Diagrams.Format f : Diagrams.Format.values()) {
            assertEquals(Files.readString(DiagramsUpToDateTest.committed().resolve(f.fileName)),
                    Files.readString(dir.resolve(f.fileName)), f.fileName);
        }
        assertTrue(stdout("diagram", "--all", dir.toString()).contains("up to date"));
    }

    @Test
    void anUnknownFormatIsABadCommandLine() {
        assertEquals(Main.BAD_COMMAND_LINE, Main.run("diagram", "--format", "visio"));
        assertEquals(Main.BAD_COMMAND_LINE, Main.run("diagram", "--all", tmp.toString(), "--output", "x"));
    }
}
