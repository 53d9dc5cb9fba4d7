package io.hupd.adapters.linux;

import io.hupd.adapters.linux.RealDeviceConfig.PartitionRef;
import io.hupd.fs.Commands;
import io.hupd.ports.UserInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The block devices of this machine, found without udev (no /dev/disk/by-partlabel is needed): blkid probes every
 * partition the kernel lists and reports its GPT name and id; sysfs gives its number, size and device number;
 * the mount table is read from {@code mountinfo}.
 */
public final class BlockDevices {
    /** One partition as the kernel and its GPT describe it. */
    public record Partition(Path node, String partlabel, String partuuid, int number, String devno, long sizeBytes) {
        boolean matches(PartitionRef ref) {
            return ref.key().equals("partlabel") ? ref.value().equals(partlabel)
                    : ref.value().equalsIgnoreCase(partuuid == null ? "" : partuuid);
        }
    }

    /** One line of mountinfo: the device number, the mount point and what was mounted. */
    public record Mount(String devno, Path mountPoint, String source, String fsType) {}

    private BlockDevices() {}

    /** The last probe, and what the kernel said about its disks when it was made. */
    private record Probe(String kernelView, long madeAtNanos, List<Partition> partitions) {}

    /**
     * A probe is reused while the kernel's view of the disks is unchanged, for at most this long: the daemon opens
     * the device for every reading of its status page (each second during an update), and a blkid probe of every
     * partition each time cost a slow board a fifth of its CPU in the middle of the update it was reporting on.
     */
    static final Duration PROBE_REUSE = Duration.ofSeconds(30);

    private static Probe lastProbe;

    /**
     * Every partition blkid finds (probing, not blkid's own cache file: a stale one would name the wrong node).
     * A probe made less than {@link #PROBE_REUSE} ago for the same {@link #kernelView()} is returned again.
     */
    public static synchronized List<Partition> partitions() throws IOException {
        String view = kernelView();
        long now = System.nanoTime();
        if (lastProbe != null && lastProbe.kernelView().equals(view)
                && now - lastProbe.madeAtNanos() < PROBE_REUSE.toNanos()) {
            return lastProbe.partitions();
        }
        List<Partition> found = probe();
        lastProbe = new Probe(view, now, found);
        return found;
    }

    /**
     * What the kernel says about its disks without reading them: the partition list (names, numbers, sizes), each
     * block device's uevent (a GPT partition's name) and disk sequence number. The sequence number is new each time
     * a disk is attached, so a loop device detached and attached again to another image with the same layout (the
     * same /proc/partitions) does not get the old image's partitions.
     */
    private static String kernelView() throws IOException {
        StringBuilder view = new StringBuilder();
        Path list = Path.of("/proc/partitions");
        if (Files.isReadable(list)) {
            view.append(Files.readString(list));
        }
        Path blocks = Path.of("/sys/class/block");
        if (Files.isDirectory(blocks)) {
            try (var entries = Files.list(blocks)) {
                for (Path b : entries.sorted().toList()) {
                    for (String f : List.of("uevent", "diskseq")) {
                        Path file = b.resolve(f);
                        if (Files.isReadable(file)) {
                            view.append(b.getFileName()).append('/').append(f).append('=')
                                    .append(Files.readString(file));
                        }
                    }
                }
            }
        }
        return view.toString();
    }

    private static List<Partition> probe() throws IOException {
        Commands.Result r = Commands.run(List.of(ToolPaths.find("blkid"), "-c", "/dev/null", "-o", "export"),
                Duration.ofSeconds(60), null, Map.of("LC_ALL", "C"), null);
        // blkid exits 2 when it finds nothing at all
        if (!r.ok() && r.exitCode() != 2) {
            throw new IOException("blkid failed: " + r.firstErrorLine());
        }
        List<Partition> out = new ArrayList<>();
        for (String block : r.out().split("\n\\s*\n")) {
            Map<String, String> kv = new LinkedHashMap<>();
            for (String line : block.split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    kv.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
            String dev = kv.get("DEVNAME");
            if (dev == null || (kv.get("PARTLABEL") == null && kv.get("PARTUUID") == null)) {
                continue;
            }
            Path sys = Path.of("/sys/class/block", Path.of(dev).getFileName().toString());
            if (!Files.isRegularFile(sys.resolve("partition"))) {
                continue;
            }
            out.add(new Partition(Path.of(dev), kv.get("PARTLABEL"), lower(kv.get("PARTUUID")),
                    Integer.parseInt(Files.readString(sys.resolve("partition")).strip()),
                    Files.readString(sys.resolve("dev")).strip(),
                    Long.parseLong(Files.readString(sys.resolve("size")).strip()) * 512));
        }
        return List.copyOf(out);
    }

    /** The one partition a reference names; a missing or ambiguous one is refused with a one-line error. */
    public static Partition resolve(String role, PartitionRef ref, List<Partition> all) {
        List<Partition> hits = all.stream().filter(p -> p.matches(ref)).toList();
        if (hits.isEmpty()) {
            throw new UserInputException("the " + role + " partition (" + ref + ") is not on this machine (blkid"
                    + " finds no partition of that " + (ref.key().equals("partlabel") ? "name" : "id") + ")");
        }
        if (hits.size() > 1) {
            throw new UserInputException("the " + role + " partition (" + ref + ") is ambiguous: "
                    + hits.stream().map(p -> p.node().toString()).toList() + " all match; name it by partuuid");
        }
        return hits.get(0);
    }

    public static List<Mount> mounts(Path mountInfo) throws IOException {
        List<Mount> out = new ArrayList<>();
        for (String line : Files.readAllLines(mountInfo)) {
            String[] f = line.split(" ");
            int sep = java.util.Arrays.asList(f).indexOf("-");
            if (f.length < 10 || sep < 6 || sep + 2 >= f.length) {
                continue;
            }
            out.add(new Mount(f[2], Path.of(unescape(f[4])), unescape(f[sep + 2]), f[sep + 1]));
        }
        return out;
    }

    /** The mounts of a partition, found by device number (the source name in mountinfo can be any alias). */
    public static List<Mount> mountsOf(Partition p, List<Mount> mounts) {
        return mounts.stream().filter(m -> m.devno().equals(p.devno())).toList();
    }

    /** The value of {@code root=} on a kernel command line, or empty. */
    public static Optional<String> rootArgument(String cmdline) {
        String found = null;
        for (String arg : cmdline.strip().split("\\s+")) {
            if (arg.equals("--")) {
                break; // what follows goes to init, not to the kernel
            }
            if (arg.startsWith("root=")) {
                found = arg.substring(5); // the kernel takes the last one
            }
        }
        return Optional.ofNullable(found).filter(s -> !s.isEmpty());
    }

    /** The partition a {@code root=} value names: PARTUUID=, PARTLABEL= or a device node. */
    public static Optional<Partition> rootNamed(String root, List<Partition> candidates) throws IOException {
        String upper = root.toUpperCase(Locale.ROOT);
        if (upper.startsWith("PARTUUID=")) {
            String id = root.substring(9);
            return candidates.stream().filter(p -> id.equalsIgnoreCase(p.partuuid())).findFirst();
        }
        if (upper.startsWith("PARTLABEL=")) {
            String label = root.substring(10);
            return candidates.stream().filter(p -> label.equals(p.partlabel())).findFirst();
        }
        if (root.startsWith("/dev/")) {
            Path node = Path.of(root);
            Path real = Files.exists(node) ? node.toRealPath() : node;
            return candidates.stream().filter(p -> p.node().equals(node) || p.node().equals(real)).findFirst();
        }
        return Optional.empty();
    }

    private static String lower(String s) {
        return s == null ? null : s.toLowerCase(Locale.ROOT);
    }

    /** mountinfo writes space, tab, newline and backslash in octal. */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() + 0 && s.substring(i + 1, Math.min(s.length(), i + 4)).matches(
                    "[0-7]{3}")) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
