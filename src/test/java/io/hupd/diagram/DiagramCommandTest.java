package io.hupd.diagram;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.cli.Main;
import io.hupd.testkit.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiagramCommandTest {
    @TempDir
    Path tmp;

    @Test
    void eachFormatToStandardOutputOrToAFile() throws Exception {
        MachineModel m = MachineModel.live();
        assertEquals(Diagrams.render(m, Diagrams.Format.PLANTUML), Cli.ok("diagram"));
        assertEquals(Diagrams.render(m, Diagrams.Format.MERMAID), Cli.ok("diagram", "--format", "mermaid"));
        Path out = tmp.resolve("sub/machine.dot");
        Cli.ok("diagram", "--format", "dot", "--output", out.toString());
        assertEquals(Diagrams.render(m, Diagrams.Format.DOT), Files.readString(out));
    }

    @Test
    void allWritesTheFolderAsCommitted() throws Exception {
        Path dir = tmp.resolve("diagrams");
        assertTrue(Cli.ok("diagram", "--all", dir.toString()).startsWith("wrote "));
        for (Diagrams.Format f : Diagrams.Format.values()) {
            assertEquals(Files.readString(DiagramsUpToDateTest.committed().resolve(f.fileName)),
                    Files.readString(dir.resolve(f.fileName)), f.fileName);
        }
        assertTrue(Cli.ok("diagram", "--all", dir.toString()).contains("up to date"));
    }

    @Test
    void anUnknownFormatIsABadCommandLine() {
        assertEquals(Main.BAD_COMMAND_LINE, Main.run("diagram", "--format", "visio"));
        assertEquals(Main.BAD_COMMAND_LINE, Main.run("diagram", "--all", tmp.toString(), "--output", "x"));
    }
}
