package io.hupd.cli;

import io.hupd.device.Device;
import io.hupd.machine.Phase;
import io.hupd.machine.UpdateContext;
import io.hupd.persistence.JournalEntry;
import io.hupd.persistence.StateStore;
import io.hupd.persistence.StoredState;
import io.hupd.web.ProgressFile;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** {@code hupd status}: the machine's state next to the ground truth (boot settings, breadcrumbs, slots). */
final class StatusReport {
    private StatusReport() {}

    static Map<String, Object> collect(Device device, StateStore store, boolean poweredOn) throws IOException {
        Reading reading = read(store);
        Map<String, Object> m = collect(device, reading, poweredOn);
        m.put("waitingFor", waitingFor(reading, store.directory().resolve("progress.json"), Instant.now()));
        return m;
    }

    /**
     * What a running update waits for, from the progress file it keeps: which blob from where, how far, and how
     * long since its last byte. Only while an update holds the database: a progress file left by a process that
     * died describes nothing that is happening.
     */
    static String waitingFor(Reading reading, Path progressFile, Instant now) {
        if (reading.view() == null || !reading.view().fromSnapshot()) {
            return null;
        }
        Map<String, Object> p = ProgressFile.read(progressFile);
        if (p == null || Boolean.TRUE.equals(p.get("finished")) || p.get("task") == null) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        Object item = p.get("item");
        sb.append(item != null ? "downloading " + item : String.valueOf(p.get("task")));
        long done = p.get("doneBytes") instanceof Number n ? n.longValue() : 0;
        long total = p.get("totalBytes") instanceof Number n ? n.longValue() : -1;
        sb.append(": ").append(done).append(total >= 0 ? " of " + total : "").append(" bytes");
        try {
            long quiet = Duration.between(Instant.parse(String.valueOf(p.get("lastByteAt"))), now).getSeconds();
            if (quiet >= 2) {
                sb.append(", stalled ").append(quiet).append(" s");
            }
        } catch (RuntimeException e) {
            // an older progress file without the moment of its last byte
        }
        return sb.toString();
    }

    /** The database's part of the report, read once (one moment of a running update, never two mixed). */
    static Reading read(StateStore store) {
        try {
            return new Reading(store.read(false), null);
        } catch (IOException e) {
            return new Reading(null, e.getMessage());
        }
    }

    /** One read of the database, or why it failed. */
    record Reading(StateStore.View view, String problem) {
        java.util.List<JournalEntry> journal() {
            return view == null ? java.util.List.of() : view.journal();
        }
    }

    static Map<String, Object> collect(Device device, Reading reading, boolean poweredOn) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        String dbProblem = reading.problem();
        Optional<StoredState> stored = dbProblem != null ? Optional.empty() : reading.view().state();
        UpdateContext ctx = stored.map(StoredState::context).orElse(null);
        String state = dbProblem != null ? "UNKNOWN" : stored.map(StoredState::stateName).orElse("IDLE");
        m.put("state", state);
        m.put("updateId", ctx == null ? null : ctx.updateId());
        String active = null;
        String running = null;
        if (poweredOn) {
            active = device.slots().activeSlot();
            running = device.slots().osRelease(active).get("VERSION_ID");
        }
        m.put("runningVersion", running);
        m.put("activeSlot", active);
        m.put("targetVersion", ctx == null ? null : ctx.targetVersion());
        String lastResult = null;
        String reason = null;
        if (stored.isPresent() && stored.get().phase() == Phase.DONE) {
            lastResult = state;
            reason = ctx.reason();
        } else {
            Optional<JournalEntry> last = dbProblem != null ? Optional.empty() : reading.view().lastResult();
            if (last.isPresent()) {
                lastResult = last.get().to();
                reason = last.get().reason();
            }
        }
        if ("COMMITTED".equals(lastResult)) {
            reason = null;
        }
        m.put("lastResult", lastResult);
        m.put("reason", reason);
        Map<String, Object> bl = new LinkedHashMap<>();
        bl.put("flavour", device.bootloader().flavour());
        try {
            bl.putAll(device.bootloader().rawVariables());
        } catch (IOException e) {
            bl.put("error", e.getMessage());
        }
        m.put("bootloader", bl);
        m.put("breadcrumbs", device.state().breadcrumbs());
        m.put("markers", device.state().markers());
        try {
            m.put("securityFloor", io.hupd.steps.SecurityFloor.read(device.state()));
        } catch (java.io.IOException e) {
            m.put("securityFloor", null);
        }
        Map<String, Object> sup = new LinkedHashMap<>();
        sup.put("running", poweredOn && device.supervisor().isRunning());
        sup.put("version", device.supervisor().version().orElse(null));
        m.put("supervisor", sup);
        m.put("source", ctx == null ? null : ctx.source());
        m.put("bytesFetched", ctx == null ? 0 : ctx.bytesFetched());
        // Beyond the contract: what an operator asks next.
        m.put("poweredOn", poweredOn);
        m.put("attempts", ctx == null ? null : ctx.attempts());
        m.put("failedCheck", ctx == null ? null : ctx.failedCheck());
        Map<String, String> slots = new LinkedHashMap<>();
        slots.put("A", slotStatus(device, "A"));
        slots.put("B", slotStatus(device, "B"));
        m.put("slots", slots);
        if (dbProblem != null) {
            m.put("database", "unreadable: " + dbProblem + " (the next boot or update rebuilds it from the disk)");
        } else if (reading.view().fromSnapshot()) {
            // Beyond the contract: the running update holds the database; this is what it last persisted.
            m.put("database", "held by the running update (pid " + reading.view().holderPid().orElse(0L)
                    + "): read from its snapshot");
        }
        return m;
    }

    private static String slotStatus(Device device, String slot) throws IOException {
        return device.slots().verifiedVersion(slot).map(v -> "verified " + v).orElse("not bootable");
    }

    static String text(Map<String, Object> m) {
        StringBuilder sb = new StringBuilder();
        line(sb, "state", m.get("state") + (m.get("updateId") == null ? "" : " (update " + m.get("updateId") + ")"));
        line(sb, "running", m.get("runningVersion") == null ? "(powered off: run 'hupd boot')"
                : m.get("runningVersion") + " from slot " + m.get("activeSlot"));
        if (m.get("targetVersion") != null) {
            line(sb, "target", m.get("targetVersion") + (m.get("source") == null ? ""
                    : " from " + m.get("source") + " (" + m.get("bytesFetched") + " bytes fetched)"));
        }
        if (m.get("waitingFor") != null) {
            line(sb, "waiting for", String.valueOf(m.get("waitingFor")));
        }
        if (m.get("lastResult") != null) {
            line(sb, "last result", m.get("lastResult") + (m.get("reason") == null ? "" : ": " + m.get("reason")));
        }
        line(sb, "boot settings", String.valueOf(m.get("bootloader")));
        line(sb, "breadcrumbs", String.valueOf(m.get("breadcrumbs")));
        line(sb, "markers", String.valueOf(m.get("markers")));
        @SuppressWarnings("unchecked")
        Map<String, Object> sup = (Map<String, Object>) m.get("supervisor");
        line(sb, "supervisor", (Boolean.TRUE.equals(sup.get("running")) ? "running " : "stopped ")
                + (sup.get("version") == null ? "" : sup.get("version")));
        line(sb, "slots", String.valueOf(m.get("slots")));
        if (m.get("database") != null) {
            line(sb, "database", String.valueOf(m.get("database")));
        }
        return sb.toString();
    }

    private static void line(StringBuilder sb, String k, String v) {
        sb.append(String.format("%-14s %s%n", k + ":", v));
    }
}
