package io.hupd.device;

import io.hupd.health.HealthCheckSource;
import io.hupd.health.HealthPolicy;
import io.hupd.image.fetch.ImageSourceFactory;
import io.hupd.ports.BootFilePolicy;
import io.hupd.ports.BootPartition;
import io.hupd.ports.Bootloader;
import io.hupd.ports.Clock;
import io.hupd.ports.DataPartition;
import io.hupd.ports.Power;
import io.hupd.ports.RunningSystem;
import io.hupd.ports.Slots;
import io.hupd.ports.StatePartition;
import io.hupd.ports.Supervisor;

/** Everything the steps may touch on a device, as ports; the simulated device and real hardware both provide it. */
public record Device(
        String deviceType,
        String architecture,
        BootFilePolicy bootFilePolicy,
        HealthPolicy healthPolicy,
        Bootloader bootloader,
        Slots slots,
        BootPartition boot,
        StatePartition state,
        DataPartition data,
        Supervisor supervisor,
        RunningSystem system,
        Power power,
        HealthCheckSource health,
        ImageSourceFactory images,
        Clock clock) {}
