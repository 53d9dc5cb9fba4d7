package io.hupd.runner;

import io.hupd.device.Device;
import io.hupd.machine.RecoveryPlan;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;

/**
 * When hupd's database is missing or corrupt, the update's context is rebuilt from the ground truth as far as
 * the disk tells (SPEC §6): the recovery table decides the state from the boot settings, the breadcrumbs and
 * the leftovers found here; this reads the versions and ids that go with it.
 */
final class StateRebuilder {
    private final Device device;

    StateRebuilder(Device device) {
        this.device = device;
    }

    /** The context for the state the recovery table rebuilt; arms the trial's guards when the table says so. */
    UpdateContext context(RecoveryPlan.Rebuild r, List<String> leftovers) throws IOException {
        UpdateContext.Builder ctx = UpdateContext.builder()
                .updateId(leftovers.isEmpty() ? "rebuilt-" + device.clock().now().getEpochSecond() : leftovers.get(0))
                .startedAt(device.clock().now().toString())
                .activeSlot(r.activeSlot())
                .spareSlot(r.spareSlot())
                .fromVersion(device.slots().osRelease(r.activeSlot()).get("VERSION_ID"));
        if (r.state() == UpdateState.REBOOTING) {
            ctx.targetVersion(device.slots().verifiedVersion(r.spareSlot())
                    .orElse(device.slots().osRelease(r.spareSlot()).get("VERSION_ID")));
            if (r.armTrial()) {
                // Without breadcrumbs neither guard would act; the trial must stay guarded.
                device.state().arm(device.state().vpnWasOnline().orElse(false));
            }
            ctx.vpnWasOnline(device.state().vpnWasOnline().orElse(false));
        } else {
            ctx.reason("the state database was lost during an update before its commit point; reverted");
        }
        return ctx.build();
    }

    /** Update ids that left a boot backup or a work folder behind (newest name first). */
    List<String> leftoverUpdates() throws IOException {
        List<String> ids = new ArrayList<>();
        for (Path parent : new Path[] {device.data().bootBackupDir("x").getParent(),
                device.data().workDir("x").getParent()}) {
            if (Files.isDirectory(parent)) {
                try (Stream<Path> s = Files.list(parent)) {
                    s.map(p -> p.getFileName().toString())
                            .filter(n -> !n.endsWith(".partial") && !ids.contains(n))
                            .forEach(ids::add);
                }
            }
        }
        ids.sort(null);
        Collections.reverse(ids);
        return ids;
    }
}
