package io.hupd.steps;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.fs.AtomicFiles;
import io.hupd.image.cache.BlobFollower;
import io.hupd.image.cache.BlobStore;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.rootfs.FlattenLimits;
import io.hupd.image.rootfs.LayerFlattener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the survey of a one-layer image found, kept in the update's work folder so that WRITING_ROOTFS can use it.
 * FETCHING makes it while the layer is still downloading ({@link DuringFetch}): the checks are CPU work and the
 * download is waiting on the network or the disk, so on a device they overlap, and WRITING_ROOTFS only has to run
 * mke2fs. It is a cache: kept only when the bytes surveyed were exactly the blob's (size and digest), and when it is
 * missing (a blob already cached, a power cut, a survey that refused the layer) WRITING_ROOTFS surveys the stored
 * blob itself, which also reports any refusal.
 *
 * @param layer the digest of the surveyed layer blob
 * @param whyNotAsIs why mke2fs cannot fill the slot from the layer as it is; null when it can
 * @param root what the checks read of the tree
 */
record LayerCheck(String layer, String whyNotAsIs, NewRoot root) {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    static final String FILE = "layer-check.json";
    static final String OS_RELEASE = "etc/os-release";
    static final String BOOT_FILES = "resin-boot";
    /** os-release is a few hundred bytes; a larger one is refused rather than read into memory. */
    static final int OS_RELEASE_LIMIT = 64 * 1024;

    /**
     * What the checks read of a new root, from its staging folder or from a survey of its layer.
     *
     * @param osRelease the content of /etc/os-release (cut after {@link #OS_RELEASE_LIMIT} + 1 bytes), null when it
     *     is not a regular file
     * @param bootFiles the sizes of the regular files under /resin-boot by their path there, null when the tree has
     *     no such folder
     */
    record NewRoot(byte[] osRelease, long treeBytes, Map<String, Long> bootFiles) {
        static NewRoot ofFolder(Path tree) throws IOException {
            Path osRelease = tree.resolve(OS_RELEASE);
            byte[] content = null;
            if (Files.isRegularFile(osRelease, LinkOption.NOFOLLOW_LINKS)) {
                try (var in = Files.newInputStream(osRelease, LinkOption.NOFOLLOW_LINKS)) {
                    content = in.readNBytes(OS_RELEASE_LIMIT + 1);
                }
            }
            Path boot = tree.resolve(BOOT_FILES);
            Map<String, Long> bootFiles = null;
            if (Files.isDirectory(boot, LinkOption.NOFOLLOW_LINKS)) {
                bootFiles = new HashMap<>();
                try (var walk = Files.walk(boot)) {
                    for (Path f : (Iterable<Path>) walk::iterator) {
                        if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                            bootFiles.put(boot.relativize(f).toString(), Files.size(f));
                        }
                    }
                }
            }
            return new NewRoot(content, io.hupd.fs.Trees.size(tree), bootFiles);
        }

        static NewRoot ofSurvey(LayerFlattener.Survey survey) {
            Map<String, Long> bootFiles = null;
            if (survey.directories().contains(BOOT_FILES)) {
                bootFiles = new HashMap<>();
                String under = BOOT_FILES + "/";
                for (Map.Entry<String, Long> f : survey.fileSizes().entrySet()) {
                    if (f.getKey().startsWith(under)) {
                        bootFiles.put(f.getKey().substring(under.length()), f.getValue());
                    }
                }
            }
            return new NewRoot(survey.kept().get(OS_RELEASE), survey.treeBytes(), bootFiles);
        }
    }

    /** The survey of one layer read from {@code in}: the flattener's checks, refusals thrown. */
    static LayerCheck survey(Descriptor layer, LayerFlattener.LayerOpener in) throws IOException {
        LayerFlattener.Survey s = LayerFlattener.survey(in, layer.mediaType(), FlattenLimits.DEFAULT,
                OS_RELEASE::equals, OS_RELEASE_LIMIT);
        return new LayerCheck(layer.digest(), s.whyNotAsIs(), NewRoot.ofSurvey(s));
    }

    void save(Path workDir) throws IOException {
        AtomicFiles.write(workDir.resolve(FILE), JSON.writeValueAsBytes(this));
    }

    /** The kept check of this layer; empty when there is none, it is of another layer, or it does not parse. */
    static Optional<LayerCheck> load(Path workDir, String layerDigest) {
        Path f = workDir.resolve(FILE);
        try {
            if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.empty();
            }
            LayerCheck c = JSON.readValue(io.hupd.fs.BoundedFiles.read(f, io.hupd.fs.BoundedFiles.DOCUMENT), LayerCheck.class);
            return layerDigest.equals(c.layer()) && c.root() != null ? Optional.of(c) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * The survey of a layer that FETCHING is downloading, on a thread of its own that follows the file being
     * written. {@link #fetchEnded} waits for it and keeps its result when it is the blob's.
     */
    static final class DuringFetch {
        private final BlobFollower follower;
        private final Thread thread;
        private final Descriptor layer;
        private volatile LayerCheck result;
        private volatile String whyNot;

        private DuringFetch(BlobStore store, Descriptor layer) {
            this.layer = layer;
            this.follower = new BlobFollower(store, layer);
            this.thread = new Thread(this::run, "hupd-layer-check");
            thread.setDaemon(true);
        }

        /** Starts following the layer; the caller must call {@link #fetchEnded} whatever happens. */
        static DuringFetch start(BlobStore store, Descriptor layer) {
            DuringFetch f = new DuringFetch(store, layer);
            f.thread.start();
            return f;
        }

        private void run() {
            try {
                LayerCheck c = survey(layer, follower::open);
                if (follower.readWhatWasVerified()) {
                    result = c;
                } else {
                    whyNot = "the bytes checked were not the verified blob";
                }
            } catch (IOException | RuntimeException e) {
                whyNot = e.getMessage();
            }
        }

        /**
         * The fetch is over: waits for the check to read the rest and keeps it in {@code workDir} when it is valid.
         *
         * @return a line for the log: what became of the check
         */
        String fetchEnded(boolean fetched, Path workDir) throws java.io.InterruptedIOException {
            if (fetched) {
                follower.writerDone();
            } else {
                follower.writerFailed();
            }
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while the layer was being checked");
            }
            if (!fetched) {
                return null;
            }
            if (result == null) {
                return "the layer was not checked during the download (" + whyNot + "); it is checked next";
            }
            try {
                result.save(workDir);
            } catch (IOException e) {
                // only a cache: WRITING_ROOTFS checks the stored blob instead
                return "the layer's check could not be kept (" + e.getMessage() + "); it is checked next";
            }
            return "the layer was checked during the download";
        }
    }
}
