package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.health.HealthCheckRunner;
import io.hupd.health.HealthVerdict;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateEvent;
import io.hupd.ports.BootSettings;

/**
 * HEALTH_CHECKING — rollback-health (SPEC §5.2): the new OS is up; it must prove itself healthy within the
 * settle time plus COUNT tries. Every check has a time limit, so a hung check cannot hold the rollback back.
 */
public final class HealthCheckStep implements Step {
    private final Device device;

    public HealthCheckStep(Device device) {
        this.device = device;
    }

    @Override
    public StepOutcome run(UpdateContext ctx, StepLog log) throws Exception {
        BootSettings settings = device.bootloader().read();
        String booted = device.slots().activeSlot();
        if (!booted.equals(ctx.spareSlot)) {
            return StepOutcome.of(UpdateEvent.UNHEALTHY, "the new OS is not running (slot " + booted
                    + " booted, the update wrote slot " + ctx.spareSlot + ")");
        }
        if (!settings.upgradeAvailable() && settings.rootPart() == device.slots().partitionOf(booted)
                && booted.equals(ctx.spareSlot)) {
            // A commit that was interrupted after its settings write: nothing left to prove.
            return StepOutcome.succeeded();
        }
        log.info("health checks: settle " + device.healthPolicy().settle().toMillis() + " ms, up to "
                + device.healthPolicy().count() + " tries");
        HealthCheckRunner runner = new HealthCheckRunner(device.clock(), device.healthPolicy(), log::info);
        HealthVerdict verdict = runner.run(device.health().checks(ctx.vpnWasOnline));
        ctx.healthTries = verdict.tries();
        if (verdict.healthy()) {
            log.info("the new OS is healthy (" + verdict.tries() + " tries)");
            return StepOutcome.succeeded();
        }
        ctx.failedCheck = verdict.failedCheck();
        ctx.failedCheckOutput = verdict.output();
        return StepOutcome.of(UpdateEvent.UNHEALTHY, "health check failed: " + verdict.reason());
    }
}
