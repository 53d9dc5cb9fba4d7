package io.hupd.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.ports.Progress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Passes progress on and also keeps it in {@code data/hupd/progress.json}, so that another process (the status
 * page) can show a running download or write. The file is a view, not state: it is replaced atomically but never
 * forced to disk, and at most a few times a second, so that it costs the update nothing that matters.
 */
public final class ProgressFile implements Progress {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MIN_INTERVAL_NANOS = 200_000_000L;

    private final Path file;
    private final Progress next;
    private String task;
    private long total;
    private long done;
    private String startedAt;
    private String item;
    private String lastByteAt;
    private long lastWrite;

    public ProgressFile(Path file, Progress next) {
        this.file = file;
        this.next = next;
    }

    @Override
    public void start(String task, long totalBytes) {
        next.start(task, totalBytes);
        this.task = task;
        this.total = totalBytes;
        this.done = 0;
        this.startedAt = Instant.now().toString();
        this.lastByteAt = startedAt;
        this.item = null;
        write(false);
    }

    @Override
    public void note(String what) {
        next.note(what);
        item = what;
        write(false);
    }

    @Override
    public void advance(long bytes) {
        next.advance(bytes);
        done += bytes;
        if (bytes > 0) {
            lastByteAt = null;
        }
        if (System.nanoTime() - lastWrite >= MIN_INTERVAL_NANOS) {
            write(false);
        }
    }

    @Override
    public void finish() {
        next.finish();
        if (task != null) {
            write(true);
        }
        task = null;
    }

    private void write(boolean finished) {
        lastWrite = System.nanoTime();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task", task);
        m.put("item", item);
        m.put("totalBytes", total);
        m.put("doneBytes", done);
        m.put("finished", finished);
        m.put("startedAt", startedAt);
        String now = Instant.now().toString();
        if (lastByteAt == null) {
            // the moment of the last byte is known to within this file's write interval, which is enough to say
            // how long a download has been stalled
            lastByteAt = now;
        }
        m.put("lastByteAt", lastByteAt);
        m.put("updatedAt", now);
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
            Files.write(tmp, JSON.writeValueAsBytes(m));
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // Only the page loses its progress bar; the update must not fail for it.
        }
    }

    /** The last progress written, or null when there is none or it does not parse. */
    public static Map<String, Object> read(Path file) {
        try {
            if (!Files.exists(file)) {
                return null;
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = JSON.readValue(io.hupd.fs.BoundedFiles.read(file, io.hupd.fs.BoundedFiles.DOCUMENT), Map.class);
            return m;
        } catch (IOException e) {
            return null;
        }
    }
}
