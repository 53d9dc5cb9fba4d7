package io.hupd.adapters.fs;

import io.hupd.fs.AtomicFiles;
import io.hupd.fs.BoundedFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * hupd's own status of each root slot (RAUC's rule: not bootable from before its first write until verified), one
 * small file per slot in the state partition, so that it outlives the database. Shared by the simulated and the
 * real device: the files are the same on both.
 */
public final class SlotStatusFiles {
    private static final String VERIFIED = "verified ";
    private final Path stateDir;

    public SlotStatusFiles(Path stateDir) {
        this.stateDir = stateDir;
    }

    public void markNotBootable(String slot) throws IOException {
        AtomicFiles.writeString(file(slot), "not-bootable\n");
    }

    public void markVerified(String slot, String version) throws IOException {
        AtomicFiles.writeString(file(slot), VERIFIED + version + "\n");
    }

    /** The version the slot was verified to hold, or empty when it is not (or no longer) known to be good. */
    public Optional<String> verifiedVersion(String slot) throws IOException {
        Path f = file(slot);
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        String s = BoundedFiles.readString(f, BoundedFiles.SMALL).strip();
        return s.startsWith(VERIFIED) ? Optional.of(s.substring(VERIFIED.length())) : Optional.empty();
    }

    private Path file(String slot) {
        return stateDir.resolve("hupd-slot-" + slot);
    }
}
