package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.fs.Trees;
import io.hupd.machine.UpdateContext;
import io.hupd.ports.BootSettings;

/** COMMITTING (SPEC §5.3): the trial is over; the new root stays, the old boot files are no longer needed. */
public final class CommitStep implements Step {
    private final Device device;

    public CommitStep(Device device) {
        this.device = device;
    }

    @Override
    public StepOutcome run(UpdateContext ctx, StepLog log) throws Exception {
        String booted = device.slots().activeSlot();
        if (!booted.equals(ctx.spareSlot()) && commitWrittenAfterThisBoot(ctx)) {
            // A power cut inside the commit's settings write: the firmware read the old, trial-armed settings
            // (GRUB fell back), the boot partition's recovery then put the commit in place. The trial passed and
            // the settings name the new root with no trial: boot it.
            log.info("the commit's boot settings were completed after this boot of slot " + booted
                    + "; rebooting into slot " + ctx.spareSlot());
            device.power().reboot("finish committing " + ctx.targetVersion());
            return StepOutcome.WAIT;
        }
        if (!booted.equals(ctx.spareSlot())) {
            // Mender's rule: never commit a root that is not the one running.
            throw new java.io.IOException("commit refused: the running root is slot " + booted
                    + ", not the new slot " + ctx.spareSlot());
        }
        // Breadcrumbs first: once they are gone no guard acts, and the settings write below is then harmless.
        device.state().disarm();
        device.bootloader().write(new BootSettings(device.slots().partitionOf(ctx.spareSlot()), false, 0));
        long committed = committedSecurityVersion(ctx);
        SecurityFloor.raise(device.state(), committed);
        Trees.deleteRecursively(device.data().bootBackupDir(ctx.updateId()));
        CachePruning.afterCommit(device, ctx, log);
        Trees.deleteRecursively(device.data().workDir(ctx.updateId()));
        log.info("update " + ctx.updateId() + " committed: running " + ctx.targetVersion());
        return StepOutcome.succeeded();
    }

    private boolean commitWrittenAfterThisBoot(UpdateContext ctx) throws java.io.IOException {
        BootSettings s = device.bootloader().read();
        return !device.state().has(io.hupd.ports.StatePartition.ALTBOOT_BREADCRUMB) && !s.upgradeAvailable()
                && s.rootPart() == device.slots().partitionOf(ctx.spareSlot());
    }

    /** What the image said, or what the committed root's os-release says when that is higher (or all there is). */
    private long committedSecurityVersion(UpdateContext ctx) throws java.io.IOException {
        long v = ctx.securityVersion() == null ? 0 : ctx.securityVersion();
        String inRoot = device.slots().osRelease(ctx.spareSlot()).get(SecurityFloor.OS_RELEASE_KEY);
        Long parsed = inRoot == null ? null : SecurityFloor.parse(inRoot.strip());
        return parsed == null ? v : Math.max(v, parsed);
    }
}
