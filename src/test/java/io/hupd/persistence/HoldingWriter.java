package io.hupd.persistence;

import io.hupd.machine.MachineLimits;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateEvent;
import io.hupd.machine.UpdateMachine;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * Another process holding a device's database as an update does: it records {@code N} transitions on a held
 * store, prints "held", and keeps the database open until its standard input ends; then it releases it and prints
 * "released". Started by {@link SnapshotReadersTest}; not a test itself.
 */
public final class HoldingWriter {
    private HoldingWriter() {}

    public static void main(String[] args) throws Exception {
        StateStore store = new StateStore(Path.of(args[0])).hold();
        UpdateMachine m = new UpdateMachine(MachineLimits.DEFAULT);
        UpdateContext c = UpdateContext.builder()
                .updateId(args[1])
                .targetVersion("2.114.0")
                .images(List.of("oci:x:2.114.0"))
                .build();
        UpdateMachine.Fired f = m.start(c);
        store.record(f, f.to().phase(), m.context(), Instant.now());
        for (int i = 1; i < Integer.parseInt(args[2]); i++) {
            f = m.fire(UpdateEvent.SUCCEEDED, "step " + i);
            store.record(f, f.to().phase(), m.context(), Instant.now());
        }
        System.out.println("held");
        System.out.flush();
        while (System.in.read() >= 0) {
            // wait for the test to close our input
        }
        store.release();
        System.out.println("released");
        System.out.flush();
    }
}
