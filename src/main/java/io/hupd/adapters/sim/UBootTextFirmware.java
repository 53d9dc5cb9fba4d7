package io.hupd.adapters.sim;

import io.hupd.adapters.bootloader.UBootText;
import io.hupd.adapters.bootloader.UBootTextEnv;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/** U-Boot with hupd's text-file boot script, as the simulated device's firmware. */
final class UBootTextFirmware {
    private UBootTextFirmware() {}

    /**
     * One power-on as hupd's {@code bootloader/uboot/boot.cmd} does it (balena's {@code resin_set_kernel_root}
     * rules, with the limit compared in hex; {@code FirmwareTable} checks it in the real U-Boot). Files are imported
     * leniently over the built-in defaults, as {@code env import -t} does, so settings that do not parse
     * simply leave the defaults in place: root partition 2, no trial, limit 3. A root partition value that
     * U-Boot cannot use as a partition number would make the real boot fail; the simulation boots the default
     * root 2 instead. The count is saved as {@code env export -t} leaves it, {@code bootcount=N\n} and a NUL,
     * with a plain overwrite, as {@code fatwrite} does, and the fallback to the other root happens in memory only.
     */
    static int selectRoot(UBootTextEnv settings) throws IOException {
        int rootA = SimFirmware.ROOT_A;
        int rootB = SimFirmware.ROOT_B;
        Map<String, String> env = new HashMap<>();
        env.put(UBootTextEnv.ROOT_PART, Integer.toHexString(SimFirmware.ROOT_A));
        env.put(UBootTextEnv.UPGRADE_AVAILABLE, "0 ");
        env.put(UBootTextEnv.LIMIT, Integer.toString(UBootTextEnv.DEFAULT_LIMIT));
        env.put("os_bc_skip", "0");
        importIfPresent(settings.envFile(), env);
        importIfPresent(settings.extraFile(), env);
        if (!importIfPresent(settings.bootcountFile(), env)) {
            env.put(UBootTextEnv.BOOTCOUNT, "0");
        }

        if ("0".equals(UBootText.firstWord(env.get("os_bc_skip")))
                && "1".equals(UBootText.firstWord(env.get(UBootTextEnv.UPGRADE_AVAILABLE)))) {
            long count = UBootText.hexPrefix(UBootText.firstWord(env.get(UBootTextEnv.BOOTCOUNT))) + 1;
            env.put(UBootTextEnv.BOOTCOUNT, Long.toHexString(count));
            fatwrite(settings.bootcountFile(), UBootTextEnv.BOOTCOUNT + "=" + Long.toHexString(count) + "\n\0");
        }

        String root = UBootText.firstWord(env.get(UBootTextEnv.ROOT_PART));
        String limit = UBootText.firstWord(env.get(UBootTextEnv.LIMIT));
        if (limit != null) {
            long count = UBootText.hexPrefix(UBootText.firstWord(env.get(UBootTextEnv.BOOTCOUNT)));
            if (count > UBootText.decimalPrefix(limit)) {
                // the script compares strings with setexpr's hex output for root A; anything else means "go to A"
                root = Integer.toHexString(rootA).equals(root) ? Integer.toHexString(rootB)
                        : Integer.toHexString(rootA);
            }
        }
        long part = UBootText.hexWhole(root);
        if (part < 1 || part > 0xff) {
            return SimFirmware.ROOT_A;
        }
        return (int) part;
    }

    private static boolean importIfPresent(Path file, Map<String, String> env) throws IOException {
        byte[] content = UBootTextEnv.firmwareLoad(file);
        if (content == null) {
            return false;
        }
        UBootText.importInto(content, env);
        return true;
    }

    /** Like U-Boot's fatwrite: the file is replaced by these bytes in place, not atomically. */
    private static void fatwrite(Path file, String exported) throws IOException {
        byte[] out = exported.getBytes(StandardCharsets.US_ASCII);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(out);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
    }
}
