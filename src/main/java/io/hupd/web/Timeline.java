package io.hupd.web;

import io.hupd.machine.Phase;
import io.hupd.persistence.JournalEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The journal grouped by update, with the time spent in each state: what {@code hupd history} prints and the
 * status page shows. Times are ISO-8601 UTC strings so that the JSON needs no date module.
 */
public record Timeline(List<Update> updates) {
    /**
     * One persisted transition.
     *
     * @param msInState how long the update stayed in {@code to}: until the next transition, or until now while it
     *     is still there; null for a result (an update does not stay in a result, it ends there)
     * @param current the update is in {@code to} now
     */
    public record Step(long seq, String at, String from, String event, String to, String toPhase, String reason,
            Long msInState, boolean current) {}

    /**
     * @param result the state it ended in, or null while it is in flight
     * @param reason why it ended as it did (the first reason recorded), null for a commit
     */
    public record Update(String updateId, String startedAt, String endedAt, String state, String result,
            String reason, long durationMs, List<Step> transitions) {}

    public static Timeline of(List<JournalEntry> journal, Instant now) {
        List<Update> updates = new ArrayList<>();
        int i = 0;
        while (i < journal.size()) {
            int j = i;
            while (j < journal.size() && journal.get(j).updateId().equals(journal.get(i).updateId())) {
                j++;
            }
            updates.add(update(journal.subList(i, j), now));
            i = j;
        }
        return new Timeline(List.copyOf(updates));
    }

    private static Update update(List<JournalEntry> es, Instant now) {
        List<Step> steps = new ArrayList<>();
        String reason = null;
        for (int k = 0; k < es.size(); k++) {
            JournalEntry e = es.get(k);
            boolean last = k == es.size() - 1;
            boolean done = Phase.DONE.name().equals(e.toPhase());
            Long ms = null;
            if (!last) {
                ms = Duration.between(e.at(), es.get(k + 1).at()).toMillis();
            } else if (!done) {
                ms = Math.max(0, Duration.between(e.at(), now).toMillis());
            }
            steps.add(new Step(e.seq(), e.at().toString(), e.from(), e.event(), e.to(), e.toPhase(), e.reason(), ms,
                    last));
            if (reason == null && e.reason() != null && !"SUCCEEDED".equals(e.event())) {
                reason = e.reason();
            }
        }
        JournalEntry first = es.get(0);
        JournalEntry last = es.get(es.size() - 1);
        boolean ended = Phase.DONE.name().equals(last.toPhase());
        String result = ended ? last.to() : null;
        Instant end = ended ? last.at() : now;
        return new Update(first.updateId(), first.at().toString(), ended ? last.at().toString() : null, last.to(),
                result, "COMMITTED".equals(result) ? null : reason,
                Math.max(0, Duration.between(first.at(), end).toMillis()), List.copyOf(steps));
    }

    /** "850ms", "12.3s", "4m 05s", "2h 10m": short enough for a column. */
    public static String human(long ms) {
        if (ms < 1000) {
            return ms + "ms";
        }
        if (ms < 60_000) {
            return String.format("%.1fs", ms / 1000.0);
        }
        long s = ms / 1000;
        if (s < 3600) {
            return String.format("%dm %02ds", s / 60, s % 60);
        }
        return String.format("%dh %02dm", s / 3600, (s % 3600) / 60);
    }
}
