package io.hupd.persistence;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hupd.machine.Phase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code hupd/state-snapshot.json}: what the process holding the database last persisted (the state row, the last
 * result, the current update's journal), for readers in other processes while it holds the file. Derived, never
 * the truth: it is written after the database has forced each transition, it is not forced itself, and readers
 * only trust it while the process that wrote it says it holds the database and is still alive, or, once it has
 * closed the database normally, while the database file is exactly as that close left it (size, time, inode).
 */
public final class StatusSnapshot {
    static final String FILE = "state-snapshot.json";
    private static final int FORMAT = 1;

    /**
     * A snapshot as read back: what it says and who wrote it.
     *
     * @param releasedDatabase when the holder closed the database normally: the database file's size, modification
     *     time and inode just after the close, so that a reader can tell nobody has written it since
     */
    public record Contents(long pid, boolean held, Instant writtenAt, Optional<StoredState> state,
            Optional<JournalEntry> lastResult, List<JournalEntry> journal, Optional<String> releasedDatabase) {
        /** The writer still holds the database: nobody else can have changed it since. */
        boolean live() {
            return held && pid != ProcessHandle.current().pid()
                    && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }

        /** The database was closed normally after this was written and has not been written since. */
        boolean currentWith(Path databaseFile) {
            return !held && releasedDatabase.isPresent() && releasedDatabase.equals(stamp(databaseFile));
        }
    }

    /** The file's size, modification time and inode; empty when it cannot be read. */
    static Optional<String> stamp(Path file) {
        try {
            var a = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS);
            return Optional.of(a.size() + ":" + a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS)
                    + ":" + a.fileKey());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private StatusSnapshot() {}

    static void write(Path dir, boolean held, Instant now, Optional<StoredState> state,
            Optional<JournalEntry> lastResult, List<JournalEntry> journal, Optional<String> releasedDatabase)
            throws IOException {
        ObjectNode root = StateStore.JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("pid", ProcessHandle.current().pid());
        root.put("held", held);
        root.put("writtenAt", now.toString());
        releasedDatabase.ifPresent(d -> root.put("releasedDatabase", d));
        if (state.isPresent()) {
            ObjectNode s = root.putObject("state");
            s.put("name", state.get().stateName());
            s.put("phase", state.get().phase().name());
            s.set("context", StateStore.JSON.valueToTree(state.get().context()));
        }
        if (lastResult.isPresent()) {
            root.set("lastResult", entry(lastResult.get()));
        }
        ArrayNode j = root.putArray("journal");
        for (JournalEntry e : journal) {
            j.add(entry(e));
        }
        Path target = dir.resolve(FILE);
        Path tmp = dir.resolve(FILE + ".tmp");
        Files.write(tmp, StateStore.JSON.writeValueAsBytes(root));
        // A rename replaces the old snapshot whole: a reader sees the previous one or this one, never a mix.
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Removes the snapshot (when it could not be brought up to date, a stale one must not be trusted). */
    static void delete(Path dir) {
        try {
            Files.deleteIfExists(dir.resolve(FILE));
        } catch (IOException e) {
            // Readers still check that the writer is alive; nothing better to do here.
        }
    }

    /** The snapshot, or empty when there is none or it does not parse (it is only a cache of the database). */
    static Optional<Contents> read(Path dir) {
        try {
            JsonNode root = StateStore.JSON.readTree(io.hupd.fs.BoundedFiles.read(dir.resolve(FILE), io.hupd.fs.BoundedFiles.DOCUMENT));
            if (root == null || root.path("format").asInt() != FORMAT) {
                return Optional.empty();
            }
            Optional<StoredState> state = Optional.empty();
            JsonNode s = root.get("state");
            if (s != null && s.isObject()) {
                Phase phase;
                try {
                    phase = Phase.valueOf(s.path("phase").asText());
                } catch (IllegalArgumentException e) {
                    phase = Phase.BEFORE_COMMIT;
                }
                state = Optional.of(new StoredState(s.path("name").asText(), phase,
                        StateStore.JSON.treeToValue(s.get("context"), io.hupd.machine.UpdateContext.class)));
            }
            JsonNode last = root.get("lastResult");
            List<JournalEntry> journal = new ArrayList<>();
            for (JsonNode e : root.path("journal")) {
                journal.add(entry(e));
            }
            JsonNode released = root.get("releasedDatabase");
            return Optional.of(new Contents(root.path("pid").asLong(), root.path("held").asBoolean(),
                    Instant.parse(root.path("writtenAt").asText()), state,
                    last == null || last.isNull() ? Optional.empty() : Optional.of(entry(last)), journal,
                    released == null || !released.isTextual() ? Optional.empty() : Optional.of(released.asText())));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static ObjectNode entry(JournalEntry e) {
        ObjectNode n = StateStore.JSON.createObjectNode();
        n.put("seq", e.seq());
        n.put("updateId", e.updateId());
        n.put("at", e.at().toString());
        n.put("from", e.from());
        n.put("event", e.event());
        n.put("to", e.to());
        n.put("toPhase", e.toPhase());
        n.put("reason", e.reason());
        return n;
    }

    private static JournalEntry entry(JsonNode n) {
        return new JournalEntry(n.path("seq").asLong(), n.path("updateId").asText(),
                Instant.parse(n.path("at").asText()),
                n.path("from").asText(), n.path("event").asText(), n.path("to").asText(), n.path("toPhase").asText(),
                n.hasNonNull("reason") ? n.get("reason").asText() : null);
    }
}
