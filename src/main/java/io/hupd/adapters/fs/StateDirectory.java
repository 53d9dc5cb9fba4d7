package io.hupd.adapters.fs;

import io.hupd.fs.AtomicFiles;
import io.hupd.ports.StatePartition;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The state partition as a folder (mounted on hardware, a plain folder on the simulated device). */
public final class StateDirectory implements StatePartition {
    private static final List<String> BREADCRUMBS = List.of(HEALTH_BREADCRUMB, ALTBOOT_BREADCRUMB);
    private static final List<String> MARKERS = List.of(HEALTH_TRIGGERED, ALTBOOT_TRIGGERED, HEALTH_FAILED);

    private final Path dir;

    public StateDirectory(Path dir) {
        this.dir = dir;
    }

    @Override
    public void arm(boolean vpnWasOnline) throws IOException {
        // Old results go first: a marker next to fresh breadcrumbs would describe the wrong update.
        for (String m : MARKERS) {
            AtomicFiles.delete(dir.resolve(m));
        }
        AtomicFiles.writeString(dir.resolve(VARIABLES), "BALENAOS_ROLLBACK_VPNONLINE=" + (vpnWasOnline ? 1 : 0) + "\n");
        for (String b : BREADCRUMBS) {
            AtomicFiles.touch(dir.resolve(b));
        }
    }

    @Override
    public void disarm() throws IOException {
        for (String b : BREADCRUMBS) {
            AtomicFiles.delete(dir.resolve(b));
        }
        AtomicFiles.delete(dir.resolve(VARIABLES));
    }

    @Override
    public boolean has(String name) {
        return Files.exists(dir.resolve(name));
    }

    @Override
    public void writeMarker(String name, String content) throws IOException {
        AtomicFiles.writeString(dir.resolve(name), content);
    }

    @Override
    public Optional<String> read(String name) throws IOException {
        Path p = dir.resolve(name);
        return Files.isRegularFile(p) ? Optional.of(io.hupd.fs.BoundedFiles.readString(p, io.hupd.fs.BoundedFiles.SMALL)) : Optional.empty();
    }

    @Override
    public List<String> breadcrumbs() {
        return present(BREADCRUMBS);
    }

    @Override
    public List<String> markers() {
        return present(MARKERS);
    }

    @Override
    public Optional<Boolean> vpnWasOnline() throws IOException {
        return read(VARIABLES).map(v -> v.contains("BALENAOS_ROLLBACK_VPNONLINE=1"));
    }

    private List<String> present(List<String> names) {
        List<String> out = new ArrayList<>();
        for (String n : names) {
            if (has(n)) {
                out.add(n);
            }
        }
        return out;
    }
}
