package io.hupd.adapters.linux;

import io.hupd.adapters.linux.BlockDevices.Partition;
import io.hupd.adapters.sim.Ext4Image;
import io.hupd.domain.Slot;
import io.hupd.fs.Commands;
import io.hupd.ports.Progress;
import io.hupd.ports.Slots;
import io.hupd.steps.OsRelease;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Root A and root B as partitions. The spare one is made with mke2fs straight onto its node and read with
 * e2fsprogs (nothing is mounted); the running one is never written: every write first checks, from the mount
 * table as it is at that moment, that the partition is neither the running root nor mounted anywhere. hupd's
 * status of each slot lives in the state partition, as on the simulated device.
 */
final class BlockSlots implements Slots {
    private final RealDevice device;

    BlockSlots(RealDevice device) {
        this.device = device;
    }

    @Override
    public String activeSlot() throws IOException {
        return device.running().slot();
    }

    @Override
    public int partitionOf(String slot) {
        return partition(slot).number();
    }

    @Override
    public Optional<String> slotOfPartition(int number) {
        for (Slot slot : Slot.values()) {
            if (partition(slot.name()).number() == number) {
                return Optional.of(slot.name());
            }
        }
        return Optional.empty();
    }

    @Override
    public Map<String, String> osRelease(String slot) throws IOException {
        return readFile(slot, "/etc/os-release").map(OsRelease::parse).orElse(Map.of());
    }

    @Override
    public long capacityBytes(String slot) {
        return partition(slot).sizeBytes();
    }

    @Override
    public void write(String slot, Path tree, Progress progress) throws IOException {
        refuseInUse(slot);
        progress.start("writing root " + slot + " (" + partition(slot).node() + ")", -1);
        try {
            image(slot).format(tree, "resin-root" + slot, partition(slot).sizeBytes());
            flush(slot);
        } finally {
            progress.finish();
        }
    }

    @Override
    public boolean writesArchives() {
        return Ext4Image.takesArchives();
    }

    @Override
    public void writeArchive(String slot, Path archive, Progress progress) throws IOException {
        refuseInUse(slot);
        progress.start("writing root " + slot + " (" + partition(slot).node() + ")", -1);
        try {
            image(slot).formatFromArchive(archive, "resin-root" + slot, partition(slot).sizeBytes());
            flush(slot);
        } finally {
            progress.finish();
        }
    }

    /** The partition's node: a filesystem image is written into the spare one as it is (never the running root). */
    @Override
    public FileChannel openRaw(String slot, boolean write) throws IOException {
        if (write) {
            refuseInUse(slot);
        }
        return FileChannel.open(partition(slot).node(), write ? StandardOpenOption.WRITE : StandardOpenOption.READ);
    }

    @Override
    public void verify(String slot, String expectedVersion) throws IOException {
        flush(slot); // e2fsck and debugfs read through the page cache: drop it so they read what is on the disk
        if (!image(slot).isCleanExt4()) {
            throw new IOException("root " + slot + " (" + partition(slot).node() + ") fails its filesystem check"
                    + " (e2fsck -fn)");
        }
        String got = osRelease(slot).get("VERSION_ID");
        if (!expectedVersion.equals(got)) {
            throw new IOException("root " + slot + " reads back version " + got + ", expected " + expectedVersion);
        }
    }

    @Override
    public boolean copyOut(String slot, String folder, Path destination) throws IOException {
        return image(slot).copyOut(folder, destination);
    }

    @Override
    public Optional<String> readFile(String slot, String path) throws IOException {
        return image(slot).readFile(path, 1 << 20).map(b -> new String(b, StandardCharsets.UTF_8));
    }

    @Override
    public void markNotBootable(String slot) throws IOException {
        status().markNotBootable(slot);
    }

    @Override
    public void markVerified(String slot, String version) throws IOException {
        status().markVerified(slot, version);
    }

    @Override
    public Optional<String> verifiedVersion(String slot) throws IOException {
        return status().verifiedVersion(slot);
    }

    /** The last line of defence: whatever the database says, a root in use is never formatted. */
    void refuseInUse(String slot) throws IOException {
        Partition p = partition(slot);
        if (slot.equals(activeSlot())) {
            throw new IOException("refusing to write root " + slot + " (" + p.node() + "): it is the running root");
        }
        List<BlockDevices.Mount> mounted = BlockDevices.mountsOf(p, device.mounts());
        if (!mounted.isEmpty()) {
            throw new IOException("refusing to write root " + slot + " (" + p.node() + "): it is mounted on "
                    + mounted.get(0).mountPoint() + " (unmount it first)");
        }
    }

    /** fsync of the node, then BLKFLSBUF: the data is on the disk and no stale cached block is read back. */
    private void flush(String slot) throws IOException {
        Path node = partition(slot).node();
        try (FileChannel ch = FileChannel.open(node, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Commands.Result r = Commands.run(List.of(ToolPaths.find("blockdev"), "--flushbufs", node.toString()),
                Duration.ofSeconds(60));
        if (!r.ok()) {
            throw new IOException("blockdev --flushbufs " + node + " failed: " + r.firstErrorLine());
        }
    }

    private Ext4Image image(String slot) {
        return Ext4Image.onBlockDevice(partition(slot).node());
    }

    private Partition partition(String slot) {
        return device.partition("root" + Slot.of(slot).name());
    }

    private io.hupd.adapters.fs.SlotStatusFiles status() {
        return new io.hupd.adapters.fs.SlotStatusFiles(device.config().stateMount());
    }
}
