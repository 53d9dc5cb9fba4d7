package io.hupd.adapters.sim;

import io.hupd.domain.Slot;
import io.hupd.fs.AtomicFiles;
import io.hupd.ports.Progress;
import io.hupd.ports.Slots;
import io.hupd.steps.OsRelease;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Root A and root B as ext4 image files. hupd's own status of each slot ("not-bootable" until verified) lives in
 * the state partition next to balena's breadcrumbs, so it survives the loss of hupd's database.
 */
final class SimSlots implements Slots {
    private final SimDevice device;

    SimSlots(SimDevice device) {
        this.device = device;
    }

    @Override
    public String activeSlot() throws IOException {
        return device.bootedSlot();
    }

    @Override
    public int partitionOf(String slot) {
        return SimFirmware.partitionOf(Slot.of(slot));
    }

    @Override
    public Optional<String> slotOfPartition(int partition) {
        return SimFirmware.slotOf(partition).map(Slot::name);
    }

    @Override
    public Map<String, String> osRelease(String slot) throws IOException {
        return readFile(slot, "/etc/os-release").map(OsRelease::parse).orElse(Map.of());
    }

    @Override
    public long capacityBytes(String slot) {
        return device.config().rootSizeBytes();
    }

    @Override
    public void write(String slot, Path tree, Progress progress) throws IOException {
        refuseRunning(slot, "write");
        progress.start("writing root " + slot, -1);
        try {
            device.image(slot).format(tree, "resin-root" + slot, device.config().rootSizeBytes());
            AtomicFiles.forceFile(device.image(slot).file());
        } finally {
            progress.finish();
        }
    }

    @Override
    public boolean writesArchives() {
        return !device.config().stagesInFolder() && Ext4Image.takesArchives();
    }

    @Override
    public void writeArchive(String slot, Path archive, Progress progress) throws IOException {
        if (!writesArchives()) {
            throw new UnsupportedOperationException("root " + slot + " is written from a folder on this device");
        }
        refuseRunning(slot, "write");
        progress.start("writing root " + slot, -1);
        try {
            device.image(slot).formatFromArchive(archive, "resin-root" + slot, device.config().rootSizeBytes());
            AtomicFiles.forceFile(device.image(slot).file());
        } finally {
            progress.finish();
        }
    }

    @Override
    public java.nio.channels.FileChannel openRaw(String slot, boolean write) throws IOException {
        if (write) {
            refuseRunning(slot, "write");
            return java.nio.channels.FileChannel.open(device.image(slot).file(),
                    java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE);
        }
        return java.nio.channels.FileChannel.open(device.image(slot).file(), java.nio.file.StandardOpenOption.READ);
    }

    @Override
    public void verify(String slot, String expectedVersion) throws IOException {
        Ext4Image img = device.image(slot);
        if (!img.isCleanExt4()) {
            throw new IOException("root " + slot + " fails its filesystem check (e2fsck -fn)");
        }
        String got = osRelease(slot).get("VERSION_ID");
        if (!expectedVersion.equals(got)) {
            throw new IOException("root " + slot + " reads back version " + got + ", expected " + expectedVersion);
        }
    }

    @Override
    public boolean copyOut(String slot, String folder, Path destination) throws IOException {
        return device.image(slot).copyOut(folder, destination);
    }

    @Override
    public Optional<String> readFile(String slot, String path) throws IOException {
        return device.image(slot).readFile(path, 1 << 20).map(b -> new String(b, StandardCharsets.UTF_8));
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

    /** The last line of defence: whatever the database says, the running root is never written. */
    private void refuseRunning(String slot, String what) throws IOException {
        if (device.poweredOn() && slot.equals(activeSlot())) {
            throw new IOException("refusing to " + what + " slot " + slot + ": it is the running root");
        }
    }

    private io.hupd.adapters.fs.SlotStatusFiles status() {
        return new io.hupd.adapters.fs.SlotStatusFiles(device.stateDir());
    }
}
