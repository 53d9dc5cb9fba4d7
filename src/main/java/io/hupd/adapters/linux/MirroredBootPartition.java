package io.hupd.adapters.linux;

import io.hupd.adapters.fs.BootDirectory;
import io.hupd.adapters.fs.RollForwardFiles;
import io.hupd.fs.Trees;
import io.hupd.ports.BootFilePolicy;
import io.hupd.ports.BootPartition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The boot partition's files when it is not mounted: each operation copies the partition out with mtools into a
 * scratch folder in the data partition, lets {@link BootDirectory} (the same code as on a mounted or simulated
 * boot partition) do its work there, then writes back only the files that changed and deletes those it removed,
 * each by {@link FatPartition#write}'s roll-forward protocol.
 */
final class MirroredBootPartition implements BootPartition {
    private final FatPartition fat;
    private final long capacity;
    private final Path scratch;

    MirroredBootPartition(FatPartition fat, long capacity, Path scratch) {
        this.fat = fat;
        this.capacity = capacity;
        this.scratch = scratch;
    }

    private interface Work<T> {
        T on(BootDirectory boot) throws IOException;
    }

    private <T> T mirrored(boolean writeBack, Work<T> work) throws IOException {
        fat.recover();
        Files.createDirectories(scratch.getParent());
        Trees.deleteRecursively(scratch);
        Files.createDirectories(scratch);
        try {
            fat.copyAllTo(scratch);
            Map<String, byte[]> before = snapshot();
            T result = work.on(new BootDirectory(scratch, () -> capacity));
            if (writeBack) {
                Map<String, byte[]> after = snapshot();
                for (var e : after.entrySet()) {
                    if (!Arrays.equals(e.getValue(), before.get(e.getKey()))) {
                        fat.write(e.getKey(), e.getValue());
                    }
                }
                for (String gone : before.keySet()) {
                    if (!after.containsKey(gone)) {
                        fat.delete(gone);
                    }
                }
            }
            return result;
        } finally {
            Trees.deleteRecursively(scratch);
        }
    }

    private Map<String, byte[]> snapshot() throws IOException {
        Map<String, byte[]> out = new HashMap<>();
        try (Stream<Path> s = Files.walk(scratch)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isRegularFile(p) && !RollForwardFiles.isWorkFile(p.getFileName().toString())) {
                    out.put(scratch.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
                }
            }
        }
        return out;
    }

    @Override
    public long freeBytes() throws IOException {
        fat.recover();
        return fat.freeBytes();
    }

    @Override
    public long bytesNeeded(Path newBootFiles, BootFilePolicy policy) throws IOException {
        return mirrored(false, b -> b.bytesNeeded(newBootFiles, policy));
    }

    @Override
    public long bytesNeeded(Map<String, Long> newFileSizes, BootFilePolicy policy) throws IOException {
        return mirrored(false, b -> b.bytesNeeded(newFileSizes, policy));
    }

    @Override
    public void backup(Path backupDir, BootFilePolicy policy) throws IOException {
        mirrored(false, b -> {
            b.backup(backupDir, policy);
            return null;
        });
    }

    @Override
    public void install(Path newBootFiles, BootFilePolicy policy) throws IOException {
        mirrored(true, b -> {
            b.install(newBootFiles, policy);
            return null;
        });
    }

    @Override
    public void restore(Path backupDir, BootFilePolicy policy) throws IOException {
        mirrored(true, b -> {
            b.restore(backupDir, policy);
            return null;
        });
    }

    @Override
    public boolean hasCompleteBackup(Path backupDir) {
        return new BootDirectory(scratch, () -> capacity).hasCompleteBackup(backupDir);
    }
}
