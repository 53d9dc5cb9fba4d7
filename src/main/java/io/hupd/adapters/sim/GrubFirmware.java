package io.hupd.adapters.sim;

import io.hupd.adapters.bootloader.GrubEnv;
import io.hupd.adapters.bootloader.GrubEnvBlock;
import io.hupd.adapters.bootloader.UBootTextEnv;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** GRUB with hupd's grub.cfg, as the simulated device's firmware. */
final class GrubFirmware {
    private GrubFirmware() {}

    /**
     * One power-on as hupd's shipped {@code bootloader/grub/grub.cfg} does it (balena's rules, with damaged values
     * made safe): {@code load_env} of the three variables; with {@code upgrade_available} 1, {@code bootcount} 0
     * or none becomes 1, 1 becomes 2, and any other value but 2 (a count GRUB cannot read, or past the limit)
     * becomes 2, each saved with {@code save_env} (in place, the block keeps its size; GRUB cannot create or
     * grow the file); then {@code bootcount} 2 boots the root {@code resin_root_part} does not name, anything
     * else the one it names (3 means root B, any other value root A).
     *
     * <p>The script compares {@code x${var} = xVALUE}: unquoted, so a value is split into words (trailing blanks
     * do not matter), and prefixed, so an unset variable is still a word. A grubenv that does not load at all
     * therefore counts nothing and boots root A (partition 2), as the U-Boot flavours fall back to their
     * defaults; the table in {@code FirmwareTable} checks this against the real GRUB.
     */
    static int selectRoot(GrubEnv settings) throws IOException {
        Path file = settings.envFile();
        byte[] content = UBootTextEnv.firmwareLoad(file);
        Map<String, String> loaded = content == null ? null : GrubEnvBlock.loadLenient(content);
        Map<String, String> env = new HashMap<>();
        if (loaded != null) {
            for (String name : GrubEnv.OWNED) {
                if (loaded.containsKey(name)) {
                    env.put(name, loaded.get(name));
                }
            }
        }
        if (grubEquals(env.get(GrubEnv.UPGRADE_AVAILABLE), "1")) {
            String count = env.get(GrubEnv.BOOTCOUNT);
            String next = grubEquals(count, "1") ? "2"
                    : grubEquals(count, "0") || grubEquals(count, "") ? "1"
                    : grubEquals(count, "2") ? null : "2";
            if (next != null) {
                env.put(GrubEnv.BOOTCOUNT, next);
                saveEnv(file, GrubEnv.BOOTCOUNT, next);
            }
        }
        boolean namesB = grubEquals(env.get(GrubEnv.ROOT_PART), "3");
        if (grubEquals(env.get(GrubEnv.BOOTCOUNT), "2")) {
            return namesB ? SimFirmware.ROOT_A : SimFirmware.ROOT_B;
        }
        return namesB ? SimFirmware.ROOT_B : SimFirmware.ROOT_A;
    }

    /**
     * GRUB's {@code [ x${value} = xLITERAL ]}: the unquoted value is split into words, so it matches when it is
     * the literal with blanks around it; an unset or blank value matches only the empty literal; a value of
     * several words never matches (the test then has too many arguments for one comparison).
     */
    static boolean grubEquals(String value, String literal) {
        List<String> words = new ArrayList<>();
        if (value != null) {
            for (String w : value.split("[ \\t\\n]+")) {
                if (!w.isEmpty()) {
                    words.add(w);
                }
            }
        }
        if (words.size() > 1) {
            return false;
        }
        return (words.isEmpty() ? "" : words.get(0)).equals(literal);
    }

    /** GRUB's save_env: rewrites the file's existing bytes in place; fails quietly as GRUB does (it only prints). */
    private static void saveEnv(Path file, String name, String value) throws IOException {
        byte[] block = UBootTextEnv.readOptional(file);
        if (block == null || !GrubEnvBlock.setInPlace(block, name, value)) {
            return;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(block);
            while (buf.hasRemaining()) {
                ch.write(buf, buf.position());
            }
            ch.force(true);
        }
    }
}
