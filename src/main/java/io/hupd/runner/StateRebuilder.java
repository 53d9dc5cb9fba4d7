package io.hupd.runner;

import io.hupd.device.Device;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateState;
import io.hupd.ports.BootSettings;
import io.hupd.ports.StatePartition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * When hupd's database is missing or corrupt, the update's state is read back from the ground truth: the boot
 * settings, the breadcrumbs, hupd's slot status marks and its scratch folders in the data partition (SPEC §6).
 * The database only ever says where an update was; these say which OS boots.
 */
final class StateRebuilder {
    /** The state the update is put in, with a context rebuilt as far as the disk tells. */
    record Rebuilt(UpdateState state, UpdateContext context, String evidence) {}

    private final Device device;

    StateRebuilder(Device device) {
        this.device = device;
    }

    /** Empty when nothing on disk shows an update in flight. */
    Optional<Rebuilt> rebuild() throws IOException {
        String booted = device.slots().activeSlot();
        boolean breadcrumbs = device.state().has(StatePartition.HEALTH_BREADCRUMB)
                || device.state().has(StatePartition.ALTBOOT_BREADCRUMB);
        List<String> leftovers = leftoverUpdates();
        BootSettings settings;
        try {
            settings = device.bootloader().read();
        } catch (IOException e) {
            if (!breadcrumbs && leftovers.isEmpty()) {
                // nothing shows an update in flight; the coherence checks report the settings themselves
                return Optional.empty();
            }
            throw e;
        }

        if (settings.upgradeAvailable()) {
            // The switch happened: a trial is on. The old OS is the slot the settings do not name.
            String target = device.slots().slotOfPartition(settings.rootPart()).orElse(booted);
            String old = "A".equals(target) ? "B" : "A";
            UpdateContext ctx = context(leftovers, old, target);
            ctx.targetVersion = device.slots().verifiedVersion(target)
                    .orElse(device.slots().osRelease(target).get("VERSION_ID"));
            if (!breadcrumbs) {
                // Without them neither guard would act; the trial must stay guarded.
                device.state().arm(device.state().vpnWasOnline().orElse(false));
            }
            ctx.vpnWasOnline = device.state().vpnWasOnline().orElse(false);
            return Optional.of(new Rebuilt(UpdateState.REBOOTING, ctx, "boot settings name partition "
                    + settings.rootPart() + " with upgrade_available=1"));
        }
        if (breadcrumbs || !leftovers.isEmpty()) {
            // Armed or half done, and no trial on: the settings name the OS to keep; put everything else back.
            String active = device.slots().slotOfPartition(settings.rootPart()).orElse(booted);
            UpdateContext ctx = context(leftovers, active, "A".equals(active) ? "B" : "A");
            ctx.reason = "the state database was lost during an update before its commit point; reverted";
            return Optional.of(new Rebuilt(UpdateState.REVERTING, ctx, breadcrumbs ? "breadcrumbs without a switch"
                    : "leftovers of update " + leftovers.get(0) + " in the data partition"));
        }
        return Optional.empty();
    }

    private UpdateContext context(List<String> leftovers, String active, String spare) throws IOException {
        UpdateContext ctx = new UpdateContext();
        ctx.updateId = leftovers.isEmpty() ? "rebuilt-" + device.clock().now().getEpochSecond() : leftovers.get(0);
        ctx.startedAt = device.clock().now().toString();
        ctx.activeSlot = active;
        ctx.spareSlot = spare;
        ctx.fromVersion = device.slots().osRelease(active).get("VERSION_ID");
        return ctx;
    }

    /** Update ids that left a boot backup or a work folder behind (newest name last). */
    private List<String> leftoverUpdates() throws IOException {
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
        java.util.Collections.reverse(ids);
        return ids;
    }
}
