package io.hupd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Options shared by the commands. */
final class Common {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Common() {}

    /**
     * Which device: {@code --device DIR} a simulated one, {@code --device-config FILE} a real one; with neither,
     * the real device of {@code /etc/hupd/device.json}.
     */
    static final class DeviceDir {
        @Spec(Spec.Target.MIXEE) CommandSpec spec;

        @Option(names = "--device", paramLabel = "DIR", description = "the simulated device")
        Path dir;

        @Option(names = "--device-config", paramLabel = "FILE",
                description = "a real device's config (default: /etc/hupd/device.json)")
        Path config;

        /** True for a simulated device; refuses both options at once. */
        boolean simulated() {
            if (dir != null && config != null) {
                throw new ParameterException(spec.commandLine(), "give --device DIR (a simulated device) or"
                        + " --device-config FILE (a real one), not both");
            }
            return dir != null;
        }

        static DeviceDir simulated(Path dir) {
            DeviceDir d = new DeviceDir();
            d.dir = dir;
            return d;
        }

        static DeviceDir real(Path config) {
            DeviceDir d = new DeviceDir();
            d.config = config;
            return d;
        }

        Path configFile() {
            return config != null ? config : io.hupd.adapters.linux.RealDeviceConfig.DEFAULT;
        }
    }

    static final class Debug {
        @Option(names = "--debug", description = "stack traces with errors")
        boolean debug;
    }
}
