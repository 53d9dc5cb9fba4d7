package io.hupd.image.registry;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A response body with time limits: the JDK client has none once the headers are in, so a registry that stops
 * sending (or trickles) would otherwise hold the update forever. Besides the whole body's limit there is a
 * low-speed limit, as curl's --speed-limit/--speed-time: fewer than a number of bytes in a window is a stall,
 * so a registry dripping a byte a second is cut after one window, not after the whole body's limit. A watchdog closes the stream when a limit
 * passes; the JDK's body stream then fails the blocked read (an interrupt does not wake it), and the failure is
 * reported as the timeout it stands for.
 */
final class GuardedInputStream extends FilterInputStream {
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "hupd-registry-watchdog");
        t.setDaemon(true);
        return t;
    });

    private final Object lock = new Object();
    private final String what;
    private final long idleNanos;
    private final long deadlineNanos;
    private final long totalMillis;
    private final ScheduledFuture<?> watchdog;
    private final long lowSpeedBytes;
    /** Guarded by lock. */
    private long windowStart = System.nanoTime();
    /** Bytes received since windowStart; guarded by lock. */
    private long windowBytes;
    private String expired;

    /**
     * @param idleMillis the low-speed window
     * @param lowSpeedBytes the bytes the body must send in every window (1: it must send something)
     * @param totalMillis the longest the whole body may take
     */
    GuardedInputStream(InputStream in, String what, long idleMillis, long lowSpeedBytes, long totalMillis) {
        super(in);
        this.what = what;
        this.lowSpeedBytes = lowSpeedBytes;
        this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleMillis);
        this.totalMillis = totalMillis;
        this.deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(totalMillis);
        long tick = Math.max(10, Math.min(500, Math.min(idleMillis, totalMillis) / 8));
        this.watchdog = TIMER.scheduleAtFixedRate(this::check, tick, tick, TimeUnit.MILLISECONDS);
    }

    private void check() {
        long now = System.nanoTime();
        synchronized (lock) {
            if (expired != null) {
                return;
            }
            if (now - deadlineNanos > 0) {
                expired = what + " did not finish within " + totalMillis + " ms (the registry is too slow)";
            } else if (now - windowStart < idleNanos) {
                return;
            } else if (windowBytes < lowSpeedBytes) {
                long ms = TimeUnit.NANOSECONDS.toMillis(idleNanos);
                expired = what + ": stalled, " + (windowBytes == 0 ? "no data" : "only " + windowBytes + " bytes")
                        + " in " + ms + " ms (the low-speed limit is " + lowSpeedBytes + " bytes in " + ms + " ms)";
            } else {
                windowStart = now;
                windowBytes = 0;
                return;
            }
        }
        watchdog.cancel(false);
        try {
            in.close();
        } catch (IOException | RuntimeException e) {
            // the reader gets the timeout either way
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        synchronized (lock) {
            if (expired != null) {
                throw new RegistryException(expired, true);
            }
        }
        int n;
        try {
            n = in.read(b, off, len);
        } catch (IOException e) {
            throw afterRead(e);
        }
        IOException late = afterRead(null);
        if (late != null) {
            throw late;
        }
        if (n > 0) {
            synchronized (lock) {
                windowBytes += n;
            }
        }
        return n;
    }

    /** A read that ended after the watchdog fired failed because of it: say so. */
    private IOException afterRead(IOException failure) {
        synchronized (lock) {
            if (expired != null) {
                return new RegistryException(expired, true);
            }
        }
        return failure;
    }

    @Override
    public void close() throws IOException {
        watchdog.cancel(false);
        super.close();
    }
}
