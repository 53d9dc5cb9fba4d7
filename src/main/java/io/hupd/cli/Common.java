package io.hupd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options shared by the commands. */
final class Common {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Common() {}

    static final class DeviceDir {
        @Option(names = "--device", required = true, paramLabel = "DIR", description = "the simulated device")
        Path dir;
    }

    static final class Debug {
        @Option(names = "--debug", description = "stack traces with errors")
        boolean debug;
    }
}
