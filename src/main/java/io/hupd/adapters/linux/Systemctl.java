package io.hupd.adapters.linux;

import io.hupd.fs.AtomicFiles;
import io.hupd.fs.Commands;
import io.hupd.ports.Clock;
import io.hupd.ports.Power;
import io.hupd.ports.Supervisor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The supervisor's unit and the reboot, through {@code systemctl} (the configured command, so that a test can put
 * a recording script in its place where systemd is not PID 1).
 */
final class Systemctl {
    private static final Duration TIME = Duration.ofSeconds(120);

    private final String command;

    Systemctl(String command) {
        this.command = command;
    }

    Commands.Result run(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(command.contains("/") ? command : ToolPaths.find(command));
        cmd.addAll(List.of(args));
        return Commands.run(cmd, TIME);
    }

    /** {@code is-active}'s answer: active, inactive, failed, activating, … ("unknown" when it says nothing). */
    String state(String unit) throws IOException {
        String out = run("is-active", unit).out().strip();
        return out.isEmpty() ? "unknown" : out.lines().findFirst().orElse("unknown");
    }

    /** The supervisor: its unit is stopped and started; the version its OS shipped is recorded in the data partition. */
    static final class UnitSupervisor implements Supervisor {
        private final Systemctl systemctl;
        private final String unit;
        private final Path versionFile;

        UnitSupervisor(Systemctl systemctl, String unit, Path versionFile) {
            this.systemctl = systemctl;
            this.unit = unit;
            this.versionFile = versionFile;
        }

        @Override
        public boolean isRunning() throws IOException {
            return systemctl.run("is-active", "--quiet", unit).ok();
        }

        @Override
        public void stop() throws IOException {
            Commands.Result r = systemctl.run("stop", unit);
            if (!r.ok()) {
                throw new IOException("systemctl stop " + unit + " failed: " + r.firstErrorLine());
            }
            if (isRunning()) {
                throw new IOException("systemctl stop " + unit + " exited 0 but the unit is still active");
            }
        }

        @Override
        public void start() throws IOException {
            Commands.Result r = systemctl.run("start", unit);
            if (!r.ok()) {
                throw new IOException("systemctl start " + unit + " failed: " + r.firstErrorLine());
            }
        }

        @Override
        public Optional<String> version() throws IOException {
            return Files.isRegularFile(versionFile) ? Optional.of(Files.readString(versionFile).strip())
                    : Optional.empty();
        }

        @Override
        public void install(String version) throws IOException {
            AtomicFiles.writeString(versionFile, version + "\n");
        }
    }

    /**
     * {@code systemctl reboot}; when the machine is still up after the configured time (a unit that does not
     * stop, a hung shutdown), a forced reboot that skips the orderly shutdown ({@code reboot --force --force}).
     */
    static final class SystemdPower implements Power {
        private final Systemctl systemctl;
        private final Duration timeout;
        private final Clock clock;
        private volatile boolean requested;

        SystemdPower(Systemctl systemctl, Duration timeout, Clock clock) {
            this.systemctl = systemctl;
            this.timeout = timeout;
            this.clock = clock;
        }

        @Override
        public void reboot(String why) {
            requested = true;
        }

        @Override
        public void rebootIfRequested() throws IOException {
            if (!requested) {
                return;
            }
            Commands.Result r = systemctl.run("reboot");
            if (r.ok()) {
                try {
                    clock.sleep(timeout);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return; // the shutdown is under way: it stops this process
                }
            }
            Commands.Result forced = systemctl.run("reboot", "--force", "--force");
            if (!forced.ok()) {
                throw new IOException("the device did not reboot: systemctl reboot " + (r.ok() ? "did not take"
                        + " effect within " + timeout.toSeconds() + " s" : "failed (" + r.firstErrorLine() + ")")
                        + " and the forced reboot failed: " + forced.firstErrorLine());
            }
        }

        @Override
        public boolean rebootRequested() {
            return requested;
        }
    }
}
