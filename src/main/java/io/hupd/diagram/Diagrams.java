package io.hupd.diagram;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Every generated view of the update machine, by file name, and the one way to write them all. */
public final class Diagrams {
    /** The command that regenerates {@code statemachine-diagrams/} from a fresh clone. */
    public static final String REGENERATE = "./hupd diagram --all statemachine-diagrams";
    static final String GENERATED_NOTE = "Generated from the live update machine by `" + REGENERATE
            + "`; do not edit.";

    public enum Format {
        PLANTUML("update-machine.puml"),
        MERMAID("update-machine.mmd"),
        DOT("update-machine.dot"),
        SVG("update-machine.svg"),
        RECOVERY("recovery-table.md");

        public final String fileName;

        Format(String fileName) {
            this.fileName = fileName;
        }

        public static Format parse(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown diagram format '" + s
                        + "': use plantuml, mermaid, dot, svg or recovery");
            }
        }
    }

    private Diagrams() {}

    public static String render(MachineModel m, Format f) {
        return switch (f) {
            case PLANTUML -> PlantUml.render(m);
            case MERMAID -> Mermaid.render(m);
            case DOT -> Dot.render(m);
            case SVG -> SvgDiagram.render(m);
            case RECOVERY -> RecoveryTableDoc.render(m);
        };
    }

    /** File name to content, for every format. */
    public static Map<String, String> all(MachineModel m) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Format f : Format.values()) {
            out.put(f.fileName, render(m, f));
        }
        return out;
    }

    /** Writes every file into {@code dir}; returns the names of those whose content changed. */
    public static List<String> writeAll(MachineModel m, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<String> changed = new ArrayList<>();
        for (Map.Entry<String, String> e : all(m).entrySet()) {
            Path p = dir.resolve(e.getKey());
            byte[] want = e.getValue().getBytes(StandardCharsets.UTF_8);
            if (!Files.exists(p) || !java.util.Arrays.equals(Files.readAllBytes(p), want)) {
                Files.write(p, want);
                changed.add(e.getKey());
            }
        }
        return changed;
    }
}
