package io.hupd.image.registry;

import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ends a JDK HTTP client's threads. Without it the client's selector thread sits in {@code epoll_wait} until the
 * process ends, and a JDK 17 VM waits up to 300 ms at exit for threads in native code to come out (it polls every
 * 10 ms): a third of a second added to every command that fetched from a registry. JDK 17's client has no
 * close(): its selector thread, named after the client's id, ends when interrupted; from JDK 21 on, close() does
 * it.
 */
final class HttpClientShutdown {
    private static final Pattern CLIENT_ID = Pattern.compile("\\(([0-9]+)\\)$");

    private HttpClientShutdown() {}

    static void stop(HttpClient c) {
        if (((Object) c) instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                // its threads end on their own when it is collected
            }
            return;
        }
        // Not joined: it leaves epoll_wait within milliseconds, and nothing here waits for it.
        for (Thread t : selectorThreads(c)) {
            t.interrupt();
        }
    }

    /** The JDK 17 client's selector thread: "HttpClient-ID-SelectorManager", its id in the client's toString. */
    static List<Thread> selectorThreads(HttpClient c) {
        Matcher m = CLIENT_ID.matcher(c.toString());
        if (!m.find()) {
            return List.of();
        }
        String name = "HttpClient-" + m.group(1) + "-SelectorManager";
        ThreadGroup g = Thread.currentThread().getThreadGroup();
        while (g.getParent() != null) {
            g = g.getParent();
        }
        Thread[] all = new Thread[g.activeCount() + 16];
        int n = g.enumerate(all, true);
        List<Thread> found = new ArrayList<>(1);
        for (int i = 0; i < n; i++) {
            if (all[i].getName().equals(name)) {
                found.add(all[i]);
            }
        }
        return found;
    }
}
