package io.hupd.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.health.HealthCheck.Kind;
import io.hupd.health.HealthCheck.Result;
import io.hupd.ports.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class HealthCheckRunnerTest {
    private static final Duration SETTLE = Duration.ofSeconds(60);
    private static final Duration INTERVAL = Duration.ofSeconds(30);
    private static final Duration LIMIT = Duration.ofMillis(200);

    /** Records sleeps and advances its own time instead of waiting. */
    static final class FakeClock implements Clock {
        final List<Duration> sleeps = new ArrayList<>();
        Instant now = Instant.parse("2026-11-29T00:00:00Z");

        @Override
        public Instant now() {
            return now;
        }

        @Override
        public void sleep(Duration d) {
            sleeps.add(d);
            now = now.plus(d);
        }
    }

    private final FakeClock clock = new FakeClock();
    private final List<String> logs = new ArrayList<>();

    private HealthCheckRunner runner(int count) {
        return new HealthCheckRunner(clock, new HealthPolicy(SETTLE, count, INTERVAL, LIMIT), logs::add);
    }

    interface Body {
        Result run() throws Exception;
    }

    static HealthCheck check(String name, Kind kind, Body body) {
        return new HealthCheck() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Kind kind() {
                return kind;
            }

            @Override
            public Result run() throws Exception {
                return body.run();
            }
        };
    }

    static HealthCheck passing(String name) {
        return check(name, Kind.REQUIRED, () -> Result.pass("ok"));
    }

    @Test
    void allPassingOnTheFirstTryIsHealthyAfterOneSettle() throws InterruptedException {
        HealthVerdict v = runner(15).run(List.of(passing("engine"), passing("supervisor")));
        assertTrue(v.healthy());
        assertEquals(1, v.tries());
        assertNull(v.failedCheck());
        assertEquals(List.of(SETTLE), clock.sleeps);
        assertEquals("healthy (after 1 try)", v.reason());
    }

    @Test
    void failingTwiceThenPassingTakesThreeTries() throws InterruptedException {
        AtomicInteger calls = new AtomicInteger();
        HealthCheck flaky = check("supervisor", Kind.REQUIRED,
                () -> calls.incrementAndGet() <= 2 ? Result.fail("not yet") : Result.pass("running"));
        HealthVerdict v = runner(15).run(List.of(passing("engine"), flaky));
        assertTrue(v.healthy());
        assertEquals(3, v.tries());
        assertEquals(List.of(SETTLE, INTERVAL, INTERVAL), clock.sleeps);
        assertTrue(logs.contains("health try 1/15: supervisor failed: not yet"), logs.toString());
    }

    @Test
    void alwaysFailingIsUnhealthyAfterExactlyCountTries() throws InterruptedException {
        AtomicInteger calls = new AtomicInteger();
        HealthCheck engine = check("engine", Kind.REQUIRED, () -> {
            calls.incrementAndGet();
            return Result.fail("/usr/bin/balena-engine is missing\nmore detail");
        });
        HealthVerdict v = runner(4).run(List.of(passing("supervisor"), engine));
        assertFalse(v.healthy());
        assertEquals(4, v.tries());
        assertEquals(4, calls.get());
        assertEquals("engine", v.failedCheck());
        assertEquals("/usr/bin/balena-engine is missing\nmore detail", v.output());
        assertEquals("engine: /usr/bin/balena-engine is missing (after 4 tries)", v.reason());
        assertEquals(List.of(SETTLE, INTERVAL, INTERVAL, INTERVAL), clock.sleeps, "no wait after the last try");
    }

    @Test
    void theVerdictNamesTheFirstFailingRequiredCheckOfTheLastTry() throws InterruptedException {
        AtomicInteger calls = new AtomicInteger();
        HealthCheck vpn = check("vpn", Kind.REQUIRED, () -> Result.fail("down"));
        // Fails only on the first try, so the last try's first failure is vpn.
        HealthCheck board = check("board", Kind.REQUIRED,
                () -> calls.incrementAndGet() == 1 ? Result.fail("bad") : Result.pass("ok"));
        HealthVerdict v = runner(2).run(List.of(board, vpn));
        assertEquals("vpn", v.failedCheck());
        assertEquals("down", v.output());
    }

    @Test
    void aHangingCheckFailsWithinItsLimitAndDoesNotBlockTheRunner() {
        CountDownLatch never = new CountDownLatch(1);
        AtomicInteger started = new AtomicInteger();
        HealthCheck hang = check("engine", Kind.REQUIRED, () -> {
            started.incrementAndGet();
            while (true) {
                try {
                    never.await();
                } catch (InterruptedException ignored) {
                    // a badly behaved check that ignores interrupts must still not block the runner
                }
            }
        });
        HealthVerdict v = assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> runner(3).run(List.of(passing("supervisor"), hang)));
        assertFalse(v.healthy());
        assertEquals(3, v.tries());
        assertEquals("engine", v.failedCheck());
        assertEquals("timed out after 200ms (hung since try 1)", v.output());
        assertEquals(1, started.get(), "a check still hung is not started again");
        assertTrue(logs.contains("health try 1/3: engine failed: timed out after 200ms"), logs.toString());
    }

    @Test
    void aSlowCheckThatStopsWhenInterruptedIsRetriedOnTheNextTry() throws InterruptedException {
        AtomicInteger calls = new AtomicInteger();
        HealthCheck slowOnce = check("engine", Kind.REQUIRED, () -> {
            if (calls.incrementAndGet() == 1) {
                Thread.sleep(60_000);
            }
            return Result.pass("pong");
        });
        HealthVerdict v = runner(3).run(List.of(slowOnce));
        assertTrue(v.healthy());
        assertEquals(2, v.tries());
    }

    @Test
    void aFailingWantedCheckDoesNotMatter() throws InterruptedException {
        HealthCheck wanted = check("extra", Kind.WANTED, () -> Result.fail("meh"));
        HealthVerdict v = runner(3).run(List.of(passing("engine"), wanted));
        assertTrue(v.healthy());
        assertEquals(1, v.tries());
        assertTrue(logs.contains("health try 1/3: extra (wanted, ignored) failed: meh"), logs.toString());
    }

    @Test
    void aThrowingCheckFailsWithItsMessage() throws InterruptedException {
        HealthCheck boom = check("board", Kind.REQUIRED, () -> {
            throw new IllegalStateException("cannot read rollback-board-healthcheck");
        });
        HealthCheck silent = check("silent", Kind.REQUIRED, () -> {
            throw new NullPointerException();
        });
        HealthVerdict v = runner(2).run(List.of(boom, silent));
        assertFalse(v.healthy());
        assertEquals("board", v.failedCheck());
        assertEquals("cannot read rollback-board-healthcheck", v.output());
        assertTrue(logs.contains("health try 2/2: silent failed: NullPointerException"), logs.toString());
    }

    @Test
    void aNullResultIsAFailure() throws InterruptedException {
        HealthVerdict v = runner(1).run(List.of(check("engine", Kind.REQUIRED, () -> null)));
        assertEquals("engine: returned no result (after 1 try)", v.reason());
    }

    @Test
    void noChecksIsHealthy() throws InterruptedException {
        assertTrue(runner(3).run(List.of()).healthy());
    }

    @Test
    void longOutputIsTrimmedToFourKiB() throws InterruptedException {
        String big = "é".repeat(5000);
        HealthVerdict v = runner(1).run(List.of(check("engine", Kind.REQUIRED, () -> Result.fail(big))));
        int bytes = v.output().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        assertTrue(bytes <= 4096 && bytes > 4000, "bytes " + bytes);
        assertTrue(v.output().endsWith("…"));
    }

    @Test
    void interruptingTheRunnerStopsIt() throws InterruptedException {
        CountDownLatch entered = new CountDownLatch(1);
        HealthCheck slow = check("engine", Kind.REQUIRED, () -> {
            entered.countDown();
            Thread.sleep(60_000);
            return Result.pass("late");
        });
        HealthCheckRunner r = new HealthCheckRunner(clock,
                new HealthPolicy(Duration.ZERO, 1, INTERVAL, Duration.ofSeconds(30)), logs::add);
        Thread caller = Thread.currentThread();
        Thread t = new Thread(() -> {
            try {
                entered.await();
                caller.interrupt();
            } catch (InterruptedException ignored) {
                // test helper
            }
        });
        t.start();
        assertThrows(InterruptedException.class, () -> r.run(List.of(slow)));
        t.join();
    }

    @Test
    void policyRejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new HealthPolicy(SETTLE, 0, INTERVAL, LIMIT));
        assertThrows(IllegalArgumentException.class, () -> new HealthPolicy(SETTLE, 1, INTERVAL, Duration.ZERO));
        assertThrows(IllegalArgumentException.class,
                () -> new HealthPolicy(Duration.ofSeconds(-1), 1, INTERVAL, LIMIT));
    }
}
