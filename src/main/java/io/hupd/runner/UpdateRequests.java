package io.hupd.runner;

import io.hupd.machine.UpdateContext;
import io.hupd.device.Device;
import io.hupd.ports.UserInputException;
import io.hupd.steps.OsVersion;
import io.hupd.steps.UpdateImages;
import java.io.IOException;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/** What {@code hupd update} asked for: checked before anything is locked or written, and turned into a context. */
final class UpdateRequests {
    private static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    private final Device device;

    UpdateRequests(Device device) {
        this.device = device;
    }

    /** Refuses a request that cannot run (bad version, no source, a reference that does not parse). */
    void validate(UpdateRequest req) throws IOException {
        OsVersion.parse(req.targetVersion());
        if (req.images().isEmpty() && req.delta() == null) {
            throw new UserInputException("no image source: give at least one --image REF");
        }
        for (String ref : req.images()) {
            device.images().open(ref);
        }
        if (req.delta() != null) {
            device.images().open(req.delta());
        }
    }

    /** Whether an interrupted update is the one asked for again (then it resumes rather than being reverted). */
    static boolean sameRequest(UpdateContext ctx, UpdateRequest req) {
        return req.targetVersion().equals(ctx.targetVersion()) && req.images().equals(ctx.images())
                && Objects.equals(req.delta(), ctx.delta());
    }

    UpdateContext fresh(UpdateRequest req) throws IOException {
        var now = device.clock().now();
        return UpdateContext.builder()
                .updateId(ID_TIME.format(now) + "-"
                        + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0x10000)))
                .startedAt(now.toString())
                .targetVersion(req.targetVersion())
                .images(new ArrayList<>(req.images()))
                .delta(req.delta())
                .requireUpgrade(req.requireUpgrade())
                .reboot(req.reboot())
                // with the update's first persisted state, so that a resume from any state fetches the same way
                .registries(UpdateImages.given(device))
                .build();
    }
}
