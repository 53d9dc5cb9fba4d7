package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.fs.Trees;
import io.hupd.machine.UpdateContext;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * UPDATING_BOOT_FILES (SPEC §3 step 6): the new OS's {@code /resin-boot/} files, read back from the verified
 * spare slot, replace the boot partition's files one atomic replace at a time. The old files are saved first
 * (completely, before the first write) so that every rollback can put them back; kept-back files are never
 * overwritten.
 */
public final class UpdateBootFilesStep implements Step {
    private final Device device;

    public UpdateBootFilesStep(Device device) {
        this.device = device;
    }

    @Override
    public StepOutcome run(UpdateContext ctx, StepLog log) throws Exception {
        Path work = device.data().workDir(ctx.updateId());
        Path newBoot = work.resolve("resin-boot");
        Trees.deleteRecursively(newBoot);
        Files.createDirectories(newBoot);
        if (!device.slots().copyOut(ctx.spareSlot(), "/resin-boot", newBoot)) {
            log.warn("the new OS ships no /resin-boot: boot partition left as it is");
            return StepOutcome.succeeded();
        }
        Path backup = device.data().bootBackupDir(ctx.updateId());
        if (!device.boot().hasCompleteBackup(backup)) {
            long needed = device.boot().bytesNeeded(newBoot, device.bootFilePolicy());
            long free = device.boot().freeBytes();
            String problem = BootPartitionSpace.problem(needed, free);
            if (problem != null) {
                return StepOutcome.failed(problem);
            }
            device.boot().backup(backup, device.bootFilePolicy());
        }
        device.boot().install(newBoot, device.bootFilePolicy());
        Trees.deleteRecursively(newBoot);
        log.info("boot partition updated (old files saved for rollback)");
        return StepOutcome.succeeded();
    }
}
