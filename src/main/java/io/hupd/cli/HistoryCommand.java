package io.hupd.cli;

import io.hupd.persistence.JournalEntry;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "history", mixinStandardHelpOptions = true,
        description = "Every transition of every update: time, time spent in the state, event, reason.")
final class HistoryCommand implements Callable<Integer> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS")
            .withZone(ZoneOffset.UTC);

    @Mixin Common.DeviceDir device;
    @Option(names = "--json") boolean json;
    @Option(names = "--update", paramLabel = "ID") String update;
    @Mixin Common.Debug debug;

    @Override
    public Integer call() throws Exception {
        try (Session s = new Session(device.dir, System.out, true)) {
            List<JournalEntry> entries = s.store().journal(update);
            if (json) {
                System.out.println(Common.JSON.writeValueAsString(entries));
                return Main.OK;
            }
            if (entries.isEmpty()) {
                System.out.println(update == null ? "no update has run on this device" : "no update " + update);
                return Main.OK;
            }
            String current = null;
            JournalEntry prev = null;
            for (JournalEntry e : entries) {
                if (!e.updateId().equals(current)) {
                    current = e.updateId();
                    prev = null;
                    System.out.println();
                    System.out.println("update " + current);
                }
                String dwell = prev == null ? "" : "+" + human(Duration.between(prev.at(), e.at()));
                System.out.printf("  %s %9s  %-20s -> %-20s %-16s %s%n", TIME.format(e.at()), dwell, e.from(), e.to(),
                        e.event(), e.reason() == null ? "" : e.reason());
                prev = e;
            }
            return Main.OK;
        }
    }

    private static String human(Duration d) {
        long ms = d.toMillis();
        return ms < 1000 ? ms + "ms" : ms < 120_000 ? String.format("%.1fs", ms / 1000.0) : d.toMinutes() + "m";
    }
}
