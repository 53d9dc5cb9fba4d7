package io.hupd.ports;

import io.hupd.health.HealthPolicy;

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
