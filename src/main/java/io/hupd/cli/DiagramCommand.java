package io.hupd.cli;

import io.hupd.diagram.Diagrams;
import io.hupd.diagram.MachineModel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "diagram", mixinStandardHelpOptions = true,
        description = "The update machine as PlantUML, Mermaid or Graphviz DOT, exported from the machine itself.")
final class DiagramCommand implements Callable<Integer> {
    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "plantuml",
            description = "plantuml, mermaid or dot (also: svg, recovery); default ${DEFAULT-VALUE}")
    String format;
    @Option(names = "--output", paramLabel = "FILE", description = "write here instead of to standard output")
    Path output;
    @Option(names = "--all", paramLabel = "DIR",
            description = "write every format into DIR (how statemachine-diagrams/ is regenerated)")
    Path all;
    @Mixin Common.Debug debug;
    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        MachineModel model = MachineModel.live();
        if (all != null) {
            if (output != null) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--all writes every format into a folder: leave out --output");
            }
            List<String> changed = Diagrams.writeAll(model, all);
            System.out.println(changed.isEmpty() ? "diagrams in " + all + " are up to date"
                    : "wrote " + String.join(", ", changed) + " in " + all);
            return Main.OK;
        }
        Diagrams.Format f;
        try {
            f = Diagrams.Format.parse(format);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        String text = Diagrams.render(model, f);
        if (output == null) {
            System.out.print(text);
        } else {
            try {
                if (output.toAbsolutePath().getParent() != null) {
                    Files.createDirectories(output.toAbsolutePath().getParent());
                }
                Files.writeString(output, text, StandardCharsets.UTF_8);
            } catch (java.nio.file.FileSystemException e) {
                throw new io.hupd.ports.UserInputException("cannot write the diagram to " + output + ": "
                        + Main.fileProblem(e));
            }
        }
        return Main.OK;
    }
}
