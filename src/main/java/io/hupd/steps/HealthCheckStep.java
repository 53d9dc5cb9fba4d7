package io.hupd.steps;

import io.hupd.device.Device;
import io.hupd.health.HealthCheckRunner;
import io.hupd.health.HealthVerdict;
import io.hupd.machine.HealthFinding;
import io.hupd.machine.UpdateContext;
import io.hupd.ports.BootSettings;

/**
 * HEALTH_CHECKING — rollback-health (SPEC §5.2): the new OS is up; it must prove itself healthy within the
 * settle time plus COUNT tries. Every check has a time limit, so a hung check cannot hold the rollback back.
 * The verdict goes to the machine, whose guards choose commit or rollback.
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
        if (!booted.equals(ctx.spareSlot())) {
            return StepOutcome.found(HealthFinding.unhealthy("the new OS is not running (slot " + booted
                    + " booted, the update wrote slot " + ctx.spareSlot() + ")"));
        }
        if (!settings.upgradeAvailable() && settings.rootPart() == device.slots().partitionOf(booted)) {
            // A commit that was interrupted after its settings write: nothing left to prove.
            return StepOutcome.found(HealthFinding.healthy());
        }
        log.info("health checks: settle " + device.healthPolicy().settle().toMillis() + " ms, up to "
                + device.healthPolicy().count() + " tries");
        HealthCheckRunner runner = new HealthCheckRunner(device.clock(), device.healthPolicy(), log::info);
        HealthVerdict verdict = runner.run(device.health().checks(ctx.vpnWasOnline()));
        if (verdict.healthy()) {
            log.info("the new OS is healthy (" + verdict.tries() + " tries)");
            return StepOutcome.found(HealthFinding.healthy()).with(c -> c.healthTries(verdict.tries()));
        }
        return StepOutcome.found(HealthFinding.unhealthy("health check failed: " + verdict.reason())).with(c -> c
                .healthTries(verdict.tries()).failedCheck(verdict.failedCheck()).failedCheckOutput(verdict.output()));
    }
}
