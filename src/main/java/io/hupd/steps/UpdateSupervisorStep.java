package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.machine.UpdateContext;
import java.util.Optional;

/** UPDATING_SUPERVISOR (SPEC §3 step 7): only when the new OS ships a newer supervisor than the installed one. */
public final class UpdateSupervisorStep implements Step {
    static final String CONF = "/etc/balena-supervisor/supervisor.conf";

    private final Device device;

    public UpdateSupervisorStep(Device device) {
        this.device = device;
    }

    @Override
    public StepOutcome run(UpdateContext ctx, StepLog log) throws Exception {
        Optional<String> conf = device.slots().readFile(ctx.spareSlot(), CONF);
        String shipped = conf.map(c -> OsRelease.parse(c).get("SUPERVISOR_VERSION")).orElse(null);
        if (shipped == null) {
            log.info("the new OS names no supervisor version: supervisor left as it is");
            return StepOutcome.succeeded();
        }
        Optional<String> installed = device.supervisor().version();
        if (installed.isPresent() && !newer(shipped, installed.get())) {
            log.info("supervisor " + installed.get() + " is current (the new OS ships " + shipped + ")");
            return StepOutcome.succeeded();
        }
        device.supervisor().install(shipped);
        log.info("supervisor updated " + installed.orElse("(none)") + " -> " + shipped);
        return StepOutcome.succeeded().with(c -> c.supervisorUpdated(true));
    }

    private static boolean newer(String a, String b) {
        try {
            return OsVersion.parse(a).isNewerThan(OsVersion.parse(b));
        } catch (RuntimeException e) {
            // a version we cannot order is not a reason to replace a working supervisor
            return false;
        }
    }
}
