package io.hupd.adapters.sim;

import io.hupd.adapters.bootloader.UBootBinaryEnv;
import io.hupd.adapters.bootloader.UBootEnvCopies;
import io.hupd.adapters.bootloader.UBootEnvCopies.Copy;
import io.hupd.adapters.bootloader.UBootEnvEntries;
import io.hupd.adapters.bootloader.UBootText;
import io.hupd.adapters.bootloader.UBootTextEnv;
import io.hupd.ports.BootSettingsException;
import java.io.IOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** U-Boot with hupd's binary-environment boot script, as the simulated device's firmware. */
final class UBootEnvFirmware {
    private UBootEnvFirmware() {}

    /**
     * One power-on with hupd's {@code bootloader/uboot/boot-env.cmd} over this environment (balena's rules, the
     * limit compared in hex; {@code FirmwareTable} checks it in the real U-Boot). Only the script's variables
     * (root, flag, count, limit, {@code os_bc_skip}) are imported and saved; others in the file are dropped by a
     * counted boot. The copy is chosen as U-Boot's
     * {@code env_check_redund} does; with no valid copy U-Boot runs on its built-in defaults (root 2, no trial)
     * and saves nothing. Variables the stored environment lacks take the script's defaults. The count is saved
     * as U-Boot's {@code saveenv} does: the whole environment into the other copy with the counter plus one.
     * The fallback to the other root is in memory only.
     */
    static int selectRoot(UBootBinaryEnv settings) throws IOException {
        List<Copy> copies;
        try {
            copies = settings.copies();
        } catch (BootSettingsException e) {
            return SimFirmware.ROOT_A;
        }
        Copy current = UBootEnvCopies.current(copies);
        LinkedHashMap<String, String> stored = new LinkedHashMap<>();
        if (current != null) {
            // the script imports and saves only these: the firmware's own variables stay out of the file
            UBootEnvEntries.parseLenient(current).forEach((k, v) -> {
                if (UBootBinaryEnv.FIRMWARE_VARIABLES.contains(k)) {
                    stored.put(k, v);
                }
            });
        }
        Map<String, String> env = new HashMap<>();
        env.put(UBootTextEnv.ROOT_PART, Integer.toHexString(SimFirmware.ROOT_A));
        env.put(UBootTextEnv.UPGRADE_AVAILABLE, "0");
        env.put(UBootTextEnv.LIMIT, Integer.toString(UBootTextEnv.DEFAULT_LIMIT));
        env.put("os_bc_skip", "0");
        env.put(UBootTextEnv.BOOTCOUNT, "0");
        env.putAll(stored);

        if (current != null && "0".equals(UBootText.firstWord(env.get("os_bc_skip")))
                && "1".equals(UBootText.firstWord(env.get(UBootTextEnv.UPGRADE_AVAILABLE)))) {
            String count = Long.toHexString(UBootText.hexPrefix(UBootText.firstWord(env.get(UBootTextEnv.BOOTCOUNT))) + 1);
            env.put(UBootTextEnv.BOOTCOUNT, count);
            stored.put(UBootTextEnv.BOOTCOUNT, count);
            Copy target = copies.size() == 1 ? current : copies.get(copies.get(0) == current ? 1 : 0);
            byte[] image = UBootEnvEntries.buildLenient(stored, copies.size() == 1 ? -1 : (current.flags() + 1) & 0xff,
                    target.where().size());
            if (image != null) {
                UBootEnvCopies.IN_PLACE.write(target.where().file(), target.where().offset(), image);
            }
        }

        String root = UBootText.firstWord(env.get(UBootTextEnv.ROOT_PART));
        String limit = UBootText.firstWord(env.get(UBootTextEnv.LIMIT));
        if (limit != null && UBootText.hexPrefix(UBootText.firstWord(env.get(UBootTextEnv.BOOTCOUNT)))
                > UBootText.decimalPrefix(limit)) {
            root = Integer.toHexString(SimFirmware.ROOT_A).equals(root) ? Integer.toHexString(SimFirmware.ROOT_B)
                    : Integer.toHexString(SimFirmware.ROOT_A);
        }
        long part = UBootText.hexWhole(root);
        return part < 1 || part > 0xff ? SimFirmware.ROOT_A : (int) part;
    }
}
