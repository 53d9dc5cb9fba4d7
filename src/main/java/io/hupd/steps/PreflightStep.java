package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.image.cache.BlobStore;
import io.hupd.image.fetch.ImageSource;
import io.hupd.image.fetch.ImageSourceFactory;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.FsImages;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.machine.UpdateContext;
import io.hupd.ports.BootSettings;
import io.hupd.ports.DataPartition;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * PREFLIGHT: the coherence checks of SPEC §3 step 2. Each failure is one clear line and nothing on the device
 * has changed (the only write is the canary: the boot settings written back unchanged).
 */
public final class PreflightStep implements Step {
    /** balena's floor: older OSes cannot be updated by this flow. */
    static final OsVersion MINIMUM_RUNNING = new OsVersion(2, 14, 0, 0);

    private final Device device;

    public PreflightStep(Device device) {
        this.device = device;
    }

    @Override
    public StepOutcome run(UpdateContext ctx, StepLog log) throws Exception {
        if (ctx.fromVersion() == null) {
            return StepOutcome.failed("the running OS (slot " + ctx.activeSlot() + ") has no VERSION_ID in"
                    + " /etc/os-release: cannot tell whether the update makes sense");
        }
        OsVersion running = OsVersion.parse(ctx.fromVersion());
        if (running.major() < 2 || running.compareTo(MINIMUM_RUNNING) < 0) {
            return StepOutcome.failed("the running OS " + running + " is too old to be updated (needs >= "
                    + MINIMUM_RUNNING + ")");
        }
        OsVersion target = OsVersion.parse(ctx.targetVersion());
        if (ctx.requireUpgrade() && !target.isNewerThan(running)) {
            return StepOutcome.failed("target version " + target + " is not newer than the running " + running
                    + " (use --no-require-upgrade to allow it)");
        }
        if (ctx.spareSlot() == null || ctx.spareSlot().equals(ctx.activeSlot())) {
            return StepOutcome.failed("the spare root partition is the active one: refusing to overwrite the"
                    + " running OS");
        }

        String sourceProblem = checkSources(ctx, log);
        if (sourceProblem != null) {
            return StepOutcome.failed(sourceProblem);
        }

        BootSettings settings;
        try {
            settings = device.bootloader().read();
        } catch (IOException e) {
            return StepOutcome.failed("the boot settings cannot be read: " + e.getMessage());
        }
        int activePart = device.slots().partitionOf(ctx.activeSlot());
        if (settings.rootPart() != activePart) {
            return StepOutcome.failed("the boot settings name partition " + settings.rootPart()
                    + " but the running root is slot " + ctx.activeSlot() + " (partition " + activePart
                    + "): fix the boot settings before updating");
        }
        if (settings.upgradeAvailable()) {
            return StepOutcome.failed("the boot settings still have a trial boot armed (upgrade_available=1):"
                    + " another update has not finished");
        }
        // Canary: prove the settings can be written and read back before relying on it at the commit point.
        device.bootloader().write(settings);
        log.info("coherence checks passed");
        return StepOutcome.succeeded();
    }

    /** Every source is asked; at least one must answer with an image for this device. */
    private String checkSources(UpdateContext ctx, StepLog log) throws java.io.IOException {
        List<String> problems = new ArrayList<>();
        List<String> refs = new ArrayList<>();
        if (ctx.delta() != null) {
            refs.add(ctx.delta());
        }
        refs.addAll(ctx.images());
        String mismatch = null;
        ImageSourceFactory images = UpdateImages.of(device, ctx, log);
        for (String ref : refs) {
            try {
                ImageSource source = ref.equals(ctx.delta()) ? images.openDelta(ref, ctx.images())
                        : images.open(ref);
                ResolvedImage image = source.resolve();
                String wrong = ImageForThisDevice.mismatch(device, image);
                if (wrong != null) {
                    mismatch = wrong;
                    problems.add(ref + ": " + wrong);
                    continue;
                }
                String tooLarge = FsImages.isFsImage(image) ? slotProblem(image, ctx) : null;
                return tooLarge != null ? tooLarge : spaceProblem(FsImages.isFsImage(image)
                        ? FsImages.withoutChunks(image) : image);
            } catch (Exception e) {
                problems.add(aboutSource(ref, e.getMessage()));
                log.warn("source " + ref + " does not answer: " + e.getMessage());
            }
        }
        if (mismatch != null && problems.size() == 1) {
            return mismatch;
        }
        return "no image source answers: " + String.join("; ", problems);
    }

    /** A source's problem, named by the source once: the sources' own messages mostly start with it already. */
    static String aboutSource(String ref, String message) {
        return message != null && message.startsWith(ref + ":") ? message : ref + ": " + message;
    }

    /**
     * The data partition must hold the blobs still to download and the flattened tree staged before the slot
     * write, and keep {@link DataPartition#MIN_FREE_BYTES} free besides. The tree's size is only known once
     * flattened, so the compressed size stands in as its floor. Sizes come from the registry: summed without
     * overflow (a layer of 2^62 bytes must not wrap the sum round to a small number), saturating at Long.MAX_VALUE.
     */
    private String spaceProblem(ResolvedImage image) throws IOException {
        BlobStore store = new BlobStore(device.data().blobCache());
        long download = 0;
        long stage;
        for (Descriptor d : image.blobs()) {
            if (!store.has(d)) {
                download = saturatedAdd(download, d.size());
            }
        }
        stage = image.totalBytes();
        long needed = saturatedAdd(saturatedAdd(download, stage), DataPartition.MIN_FREE_BYTES);
        long free = device.data().freeBytes();
        if (needed > free) {
            return "not enough free space in the data partition for " + image.reference() + ": it needs "
                    + (needed == Long.MAX_VALUE ? "more than " + Long.MAX_VALUE : needed) + " bytes (" + download
                    + " to download, " + stage + " to stage, " + DataPartition.MIN_FREE_BYTES
                    + " kept free), " + free + " are free";
        }
        return null;
    }

    static long saturatedAdd(long a, long b) {
        long sum = a + b;
        // overflow only when both have the sign the sum does not
        return ((a ^ sum) & (b ^ sum)) < 0 ? (a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE) : sum;
    }

    /** A filesystem image is written to the slot as it is: it must not be larger than the slot. */
    private String slotProblem(ResolvedImage image, UpdateContext ctx) throws IOException {
        long size = FsImages.declaredSize(image);
        if (size <= 0) {
            return image.reference() + ": the filesystem image's config does not give its size ("
                    + FsImages.SIZE_LABEL + ")";
        }
        long capacity = device.slots().capacityBytes(ctx.spareSlot());
        if (size > capacity) {
            return "the filesystem image " + image.reference() + " (" + Sizes.mib(size) + " MiB) does not fit in"
                    + " slot " + ctx.spareSlot() + " (" + Sizes.mib(capacity) + " MiB)";
        }
        return null;
    }
}
