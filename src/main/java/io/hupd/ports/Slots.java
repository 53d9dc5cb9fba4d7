package io.hupd.ports;

import io.hupd.domain.Slot;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The two root partitions. Slots are named by {@link Slot#name()}, "A" and "B"; the active one is the one the running OS booted from.
 * hupd keeps its own status of each slot (RAUC's rule): a slot is not bootable from before its first write until
 * it is verified.
 */
public interface Slots {
    String activeSlot() throws IOException;

    default String spareSlot() throws IOException {
        return Slot.of(activeSlot()).other().name();
    }

    /** The partition number the bootloader uses for a slot, from the device's disk layout. */
    int partitionOf(String slot);

    /** The slot of a partition number, or empty when it is neither root. */
    Optional<String> slotOfPartition(int partition);

    /** The key/value pairs of {@code /etc/os-release} in the slot; empty when it has none. */
    Map<String, String> osRelease(String slot) throws IOException;

    long capacityBytes(String slot) throws IOException;

    /** Makes a fresh filesystem in the slot and fills it with the tree. */
    void write(String slot, Path tree, Progress progress) throws IOException;

    /**
     * Whether {@link #writeArchive} works here: the filesystem can be made straight from a layer archive, with no
     * staging folder (mke2fs 1.47.1 and later). False when the device's tools cannot, or its configuration says
     * to stage in a folder.
     */
    default boolean writesArchives() {
        return false;
    }

    /**
     * As {@link #write}, from a tar archive (plain or gzip) whose every entry the caller has already checked.
     *
     * @throws UnsupportedOperationException when {@link #writesArchives()} is false
     */
    default void writeArchive(String slot, Path archive, Progress progress) throws IOException {
        throw new UnsupportedOperationException("slot writer takes no archives");
    }

    /**
     * The slot's raw bytes (the partition, or the simulated slot's file), for a filesystem image written into it
     * as it is and for reading what the running root already holds. Writing refuses the running root.
     *
     * @throws UnsupportedOperationException when this device's slots cannot be written raw
     */
    default java.nio.channels.FileChannel openRaw(String slot, boolean write) throws IOException {
        throw new UnsupportedOperationException("slots are not written raw on this device");
    }

    /** Checks the filesystem and that its os-release names the version; throws with a one-line reason. */
    void verify(String slot, String expectedVersion) throws IOException;

    /** Copies a folder of the slot (e.g. {@code /resin-boot}) to a local folder; false when it is not there. */
    boolean copyOut(String slot, String folder, Path destination) throws IOException;

    Optional<String> readFile(String slot, String path) throws IOException;

    void markNotBootable(String slot) throws IOException;

    void markVerified(String slot, String version) throws IOException;

    /** The version the slot was verified to hold, or empty when it is not (or no longer) known to be good. */
    Optional<String> verifiedVersion(String slot) throws IOException;
}
