package io.hupd.persistence;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "object already exists: JOURNAL_UPDATE": the daemon's first update on a device whose database did not exist yet
 * met its status page reading the same new database. H2 lets every thread of one JVM open the file, so two
 * threads ran the first migration at once. Every first use from many threads at once must find one schema.
 */
class FirstUseRaceTest {
    @TempDir
    Path tmp;

    @Test
    void threadsOpeningANewDatabaseAtOnceAllSucceed() throws Exception {
        for (int round = 0; round < 10; round++) {
            StateStore store = new StateStore(tmp.resolve("db-" + round));
            int threads = 6;
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> all = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    all.add(pool.submit(() -> {
                        go.await();
                        return store.schemaVersion();
                    }));
                }
                go.countDown();
                for (Future<?> f : all) {
                    assertEquals(store.schemaVersion(), f.get(), "round " + round);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
