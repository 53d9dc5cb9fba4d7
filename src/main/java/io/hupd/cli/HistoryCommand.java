package io.hupd.cli;

import io.hupd.persistence.StateStore;
import io.hupd.web.Timeline;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "history", mixinStandardHelpOptions = true,
        description = {"Every transition of every update, one block per update: time, time spent in the state it"
                + " entered, event, transition and reason.",
                "With --json: {\"updates\": [{updateId, startedAt, endedAt, state, result, reason, durationMs,"
                        + " transitions: [{seq, at, from, event, to, toPhase, reason, msInState, current}]}]}."})
final class HistoryCommand implements Callable<Integer> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS")
            .withZone(ZoneOffset.UTC);

    @Mixin Common.DeviceDir device;
    @Option(names = "--json", description = "the timeline as JSON") boolean json;
    @Option(names = "--update", paramLabel = "ID", description = "only this update") String update;
    @Mixin Common.Debug debug;

    @Override
    public Integer call() throws Exception {
        try (Session s = new Session(device, System.out, true)) {
            StateStore.View v = s.store().read(true);
            if (!v.wholeJournal()) {
                // The running update holds the database; its snapshot has only its own transitions.
                System.err.println("hupd: the database is held by the running update (pid " + v.holderPid().orElse(0L)
                        + "): showing that update only; the whole history once it ends");
            }
            Timeline t = Timeline.of(update == null ? v.journal()
                    : v.journal().stream().filter(e -> e.updateId().equals(update)).toList(), Instant.now());
            if (json) {
                System.out.println(Common.JSON.writeValueAsString(t));
            } else if (t.updates().isEmpty()) {
                System.out.println(update == null ? "no update has run on this device" : "no update " + update);
            } else {
                print(t, System.out);
            }
            return Main.OK;
        }
    }

    private static String row(String time, String stay, String event, String transition, String reason) {
        return String.format("  %-23s  %9s  %-16s  %-44s  %s", time, stay, event, transition, reason).stripTrailing();
    }

    static void print(Timeline t, PrintStream out) {
        boolean firstBlock = true;
        for (Timeline.Update u : t.updates()) {
            if (!firstBlock) {
                out.println();
            }
            firstBlock = false;
            String outcome = u.result() == null ? "in flight, now " + u.state() + " (" + Timeline.human(u.durationMs())
                    + " so far)" : u.result() + " after " + Timeline.human(u.durationMs());
            out.println("update " + u.updateId() + ": " + outcome);
            if (u.reason() != null) {
                out.println("  reason: " + Main.oneLine(u.reason()));
            }
            out.println(row("time (UTC)", "in state", "event", "transition", "reason"));
            for (Timeline.Step st : u.transitions()) {
                String stay = st.msInState() == null ? "-" : Timeline.human(st.msInState()) + (st.current() ? "+" : "");
                out.println(row(TIME.format(Instant.parse(st.at())), stay, st.event(), st.from() + " -> " + st.to(),
                        st.reason() == null ? "" : Main.oneLine(st.reason())));
            }
        }
    }
}
