package io.hupd.runner;

import io.hupd.device.Device;
import io.hupd.machine.UpdateState;
import io.hupd.steps.*;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/** Which step does the work of which state. States without a step wait for an event from outside. */
public final class StepRegistry {
    private final Map<UpdateState, Step> steps = new EnumMap<>(UpdateState.class);

    public StepRegistry(Device d) {
        steps.put(UpdateState.LOCKED, new LockStep(d));
        steps.put(UpdateState.PREFLIGHT, new PreflightStep(d));
        steps.put(UpdateState.STOPPING_SUPERVISOR, new StopSupervisorStep(d));
        steps.put(UpdateState.FETCHING, new FetchStep(d));
        steps.put(UpdateState.WRITING_ROOTFS, new WriteRootfsStep(d));
        steps.put(UpdateState.UPDATING_BOOT_FILES, new UpdateBootFilesStep(d));
        steps.put(UpdateState.UPDATING_SUPERVISOR, new UpdateSupervisorStep(d));
        steps.put(UpdateState.ARMING_ROLLBACKS, new ArmRollbacksStep(d));
        steps.put(UpdateState.SWITCHING_BOOT, new SwitchBootStep(d));
        steps.put(UpdateState.REVERTING, new RevertStep(d));
        steps.put(UpdateState.REBOOTING, new RebootStep(d));
        steps.put(UpdateState.CHECKING_ALTBOOT, new CheckAltbootStep(d));
        steps.put(UpdateState.HEALTH_CHECKING, new HealthCheckStep(d));
        steps.put(UpdateState.COMMITTING, new CommitStep(d));
        steps.put(UpdateState.ROLLING_BACK_HEALTH, new RollbackStep(d, RollbackStep.Kind.HEALTH));
        steps.put(UpdateState.ROLLING_BACK_ALTBOOT, new RollbackStep(d, RollbackStep.Kind.ALTBOOT));
    }

    /** For tests that wrap steps to inject faults. */
    public StepRegistry replace(UpdateState state, Step step) {
        steps.put(state, step);
        return this;
    }

    public Optional<Step> forState(UpdateState state) {
        return Optional.ofNullable(steps.get(state));
    }
}
