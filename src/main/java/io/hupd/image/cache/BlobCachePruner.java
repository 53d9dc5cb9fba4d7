package io.hupd.image.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hupd.fs.AtomicFiles;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.Digests;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.oci.Text;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Keeps the data partition's blob cache ({@link BlobStore}) from growing with every update: when an update ends,
 * only what a later update can use stays (the rule and its reasons are in docs/registry.md, "The cache"). It
 * runs only at the end of an update, under the device lock, so no download is writing to the cache meanwhile.
 *
 * <p>The running OS's image is recorded next to the blobs ({@value #RECORD}) when an update commits (and when a
 * device is made with its image in the cache): after a rollback or a revert it is what must stay. Without a
 * record the pruner cannot tell the running OS's blobs from others, and keeps every complete blob.
 */
public final class BlobCachePruner {
    static final String RECORD = "running-image.json";
    private static final Pattern BLOB_NAME = Pattern.compile("[0-9a-f]{64}");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What one pruning did; {@code notes} are the reasons something was kept or could not be removed. */
    public record Result(int blobs, int partials, int leftovers, long bytesFreed, List<String> notes) {
        public String summary() {
            return "cache pruned: " + blobs + " blobs, " + partials + " partial downloads and " + leftovers
                    + " temporary files removed (" + bytesFreed + " bytes)";
        }
    }

    private final BlobStore store;

    public BlobCachePruner(Path cacheDir) {
        this.store = new BlobStore(cacheDir);
    }

    /**
     * The update committed: {@code running} is now the running OS. Its blobs are all that stays, since the next
     * update either fetches a new image or applies a delta to exactly these layers. The record is written first,
     * so a commit step run again after a crash (its work folder, with the image, already gone) prunes the same
     * way from the record.
     *
     * @param running the committed image, or null when it is no longer known (then the record decides)
     */
    public Result afterCommit(ResolvedImage running) throws IOException {
        if (running != null) {
            record(running);
        }
        List<String> notes = new ArrayList<>();
        Optional<Set<String>> kept = recordedBlobs(notes);
        if (kept.isEmpty()) {
            notes.add("the running OS's image is not known; complete blobs are kept");
            return withNotes(prune(d -> true, d -> false), notes);
        }
        return withNotes(prune(kept.get(), d -> false), notes);
    }

    /**
     * The new OS booted and failed (rollback-altboot or rollback-health); the old one runs again. The failed
     * image is not kept: installing it again would fail again, and it is a whole image's worth of the user's
     * partition. Downloads in progress belong to no update now.
     *
     * @param failed the image that failed, or null when it is not known
     */
    public Result afterRollback(ResolvedImage failed) throws IOException {
        List<String> notes = new ArrayList<>();
        Optional<Set<String>> running = recordedBlobs(notes);
        if (running.isPresent()) {
            return withNotes(prune(running.get(), d -> false), notes);
        }
        if (failed == null) {
            return leftoversOnly("neither the running OS's image nor the failed one is known; blobs are kept");
        }
        // Without a record, anything but the failed image may be the running OS's.
        Set<String> failedBlobs = new HashSet<>(digests(failed));
        notes.add("the running OS's image is not recorded; only the failed image's blobs are removed");
        return withNotes(prune(d -> !failedBlobs.contains(d), d -> false), notes);
    }

    /**
     * The update stopped before its commit point (a failure, an abort, the attempt limit). Most such failures
     * pass (the network, the space, a power cut), and the operator runs the same update again: the target's
     * blobs and its partial downloads stay for that retry, beside the running OS's. Anything else (another
     * target's leftovers) goes.
     *
     * @param target the image this update fetched, or null when it fetched none (nothing of it to tell apart
     *     then, so every blob and partial download stays)
     */
    public Result afterRevert(ResolvedImage target) throws IOException {
        if (target == null) {
            return leftoversOnly("this update pinned no image; blobs and partial downloads are kept");
        }
        List<String> notes = new ArrayList<>();
        Set<String> targetBlobs = Set.copyOf(digests(target));
        Optional<Set<String>> running = recordedBlobs(notes);
        Predicate<String> keep;
        if (running.isPresent()) {
            Set<String> both = new HashSet<>(running.get());
            both.addAll(targetBlobs);
            keep = both::contains;
        } else {
            notes.add("the running OS's image is not recorded; complete blobs are kept");
            keep = d -> true;
        }
        return withNotes(prune(keep, targetBlobs::contains), notes);
    }

    /** Records {@code running} as the running OS's image (atomically: a torn record would be read as none). */
    public void record(ResolvedImage running) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("reference", running.reference());
        root.put("manifestDigest", running.manifestDigest());
        var blobs = root.putArray("blobs");
        digests(running).forEach(blobs::add);
        Files.createDirectories(store.dir());
        AtomicFiles.write(store.dir().resolve(RECORD), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
    }

    /** The recorded running OS's blob digests; empty when there is no usable record (a note says why). */
    Optional<Set<String>> recordedBlobs(List<String> notes) {
        Path file = store.dir().resolve(RECORD);
        try {
            JsonNode root = JSON.readTree(io.hupd.fs.BoundedFiles.read(file, io.hupd.fs.BoundedFiles.DOCUMENT));
            JsonNode blobs = root == null ? null : root.get("blobs");
            if (blobs == null || !blobs.isArray() || blobs.isEmpty()) {
                notes.add(RECORD + " lists no blobs");
                return Optional.empty();
            }
            Set<String> out = new HashSet<>();
            for (JsonNode b : blobs) {
                if (!b.isTextual() || !Digests.isSha256(b.asText())) {
                    notes.add(RECORD + " has an entry that is not a sha256 digest");
                    return Optional.empty();
                }
                out.add(b.asText());
            }
            return Optional.of(out);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            notes.add(RECORD + " is unreadable: " + Text.firstLine(e.getMessage()));
            return Optional.empty();
        }
    }

    private static List<String> digests(ResolvedImage image) {
        return image.blobs().stream().map(Descriptor::digest).toList();
    }

    private Result prune(Set<String> keep, Predicate<String> keepPartial) throws IOException {
        return prune(keep::contains, keepPartial);
    }

    private Result leftoversOnly(String why) throws IOException {
        return withNotes(prune(d -> true, d -> true), List.of(why));
    }

    private static Result withNotes(Result r, List<String> notes) {
        List<String> all = new ArrayList<>(notes);
        all.addAll(r.notes());
        return new Result(r.blobs(), r.partials(), r.leftovers(), r.bytesFreed(), List.copyOf(all));
    }

    /**
     * One pass over the cache. Only names hupd makes are touched: {@code <64 hex>} blobs, {@code .partial-}
     * downloads and {@code .tmp-} files of {@link BlobStore}, {@code .empty-} files of a delta. A file that
     * cannot be removed is a note, and the rest goes on.
     */
    private Result prune(Predicate<String> keepBlob, Predicate<String> keepPartial) throws IOException {
        Counter c = new Counter();
        Path shaDir = store.dir().resolve("blobs").resolve("sha256");
        if (Files.isDirectory(shaDir, LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(shaDir)) {
                for (Path p : files) {
                    String name = p.getFileName().toString();
                    String partialOf = name.startsWith(BlobStore.PARTIAL_PREFIX)
                            ? name.substring(BlobStore.PARTIAL_PREFIX.length()) : null;
                    if (BLOB_NAME.matcher(name).matches()) {
                        if (!keepBlob.test(Digests.PREFIX + name)) {
                            c.remove(p, Kind.BLOB);
                        }
                    } else if (partialOf != null && BLOB_NAME.matcher(partialOf).matches()) {
                        if (!keepPartial.test(Digests.PREFIX + partialOf)) {
                            c.remove(p, Kind.PARTIAL);
                        }
                    } else if (name.startsWith(".tmp-")) {
                        // BlobStore.put's file while a blob streams in; only a killed process leaves one
                        c.remove(p, Kind.LEFTOVER);
                    }
                }
            }
        }
        if (Files.isDirectory(store.dir(), LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> files = Files.newDirectoryStream(store.dir(), ".empty-*")) {
                for (Path p : files) {
                    c.remove(p, Kind.LEFTOVER);
                }
            }
        }
        return new Result(c.blobs, c.partials, c.leftovers, c.bytes, List.copyOf(c.notes));
    }

    private enum Kind { BLOB, PARTIAL, LEFTOVER }

    private static final class Counter {
        int blobs;
        int partials;
        int leftovers;
        long bytes;
        final List<String> notes = new ArrayList<>();

        void remove(Path p, Kind kind) {
            try {
                if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && !Files.isSymbolicLink(p)) {
                    return;
                }
                long size = Files.isSymbolicLink(p) ? 0 : Files.size(p);
                if (!Files.deleteIfExists(p)) {
                    return;
                }
                bytes += size;
                switch (kind) {
                    case BLOB -> blobs++;
                    case PARTIAL -> partials++;
                    default -> leftovers++;
                }
            } catch (IOException e) {
                notes.add("could not remove " + p.getFileName() + ": " + Text.firstLine(e.getMessage()));
            }
        }
    }
}
