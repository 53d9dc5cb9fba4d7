package io.hupd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.hupd.ports.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * The daemon's local API on a Unix socket ({@link ApiProtocol}). The socket is mode 0600 in a 0700 folder, so
 * the kernel keeps other users out; on top of that every connection's peer is read with {@code SO_PEERCRED} and
 * only root or the daemon's own user may start or abort an update (status and follow are read-only).
 */
final class LocalApi implements AutoCloseable {
    private final Path socket;
    private final Common.DeviceDir deviceDir;
    private final PrintStream journal;
    private ServerSocketChannel server;
    private UserPrincipal owner;
    private Job current;

    LocalApi(Path socket, Common.DeviceDir deviceDir, PrintStream journal) {
        this.socket = socket;
        this.deviceDir = deviceDir;
        this.journal = journal;
    }

    /** Binds the socket and starts answering; refuses when another daemon already answers on it. */
    LocalApi start() throws IOException {
        Path folder = socket.getParent();
        Files.createDirectories(folder);
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwx------"));
        if (Files.exists(socket)) {
            try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                probe.connect(UnixDomainSocketAddress.of(socket));
                throw new io.hupd.runner.DeviceBusyException("a hupd daemon already answers on " + socket);
            } catch (ConnectException stale) {
                Files.delete(socket); // left by a daemon that died
            }
        }
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        owner = Files.getOwner(socket);
        Thread accept = new Thread(this::acceptLoop, "hupd-api");
        accept.setDaemon(true);
        accept.start();
        return this;
    }

    private void acceptLoop() {
        while (true) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (ClosedChannelException closed) {
                return;
            } catch (IOException e) {
                journal.println("hupd daemon: accept failed: " + e.getMessage());
                return;
            }
            Thread t = new Thread(() -> serve(ch), "hupd-api-client");
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(SocketChannel ch) {
        try (ch) {
            OutputStream raw = Channels.newOutputStream(ch);
            Reply reply = new Reply(raw);
            String line;
            try {
                line = ApiProtocol.readLine(Channels.newInputStream(ch), ApiProtocol.MAX_REQUEST_BYTES);
            } catch (IOException e) {
                reply.refuse(Main.BAD_COMMAND_LINE, "hupd: bad request: " + e.getMessage());
                return;
            }
            if (line == null) {
                return;
            }
            JsonNode req;
            try {
                req = ApiProtocol.JSON.readTree(line);
            } catch (IOException e) {
                reply.refuse(Main.BAD_COMMAND_LINE, "hupd: bad request: not JSON");
                return;
            }
            String op = req == null ? "" : req.path("op").asText();
            UnixDomainPrincipal peer = ch.getOption(ExtendedSocketOptions.SO_PEERCRED);
            String who = peer.user().getName();
            if ((op.equals("update") || op.equals("abort")) && !mayChange(peer)) {
                journal.println("hupd daemon: refused " + op + " from " + who);
                reply.refuse(Main.FAILED, "hupd: only root (or the daemon's own user) may start or abort an"
                        + " update; this request came from " + who);
                return;
            }
            switch (op) {
                case "update" -> update(req, reply, who);
                case "abort" -> abort(reply, who);
                case "status" -> status(reply);
                case "follow" -> follow(reply);
                default -> reply.refuse(Main.BAD_COMMAND_LINE, "hupd: unknown request '" + op
                        + "' (known: update, abort, status, follow)");
            }
        } catch (IOException | InterruptedException e) {
            // the client went away; an update it started goes on
        }
    }

    private boolean mayChange(UnixDomainPrincipal peer) {
        return peer.user().getName().equals("root") || peer.user().equals(owner);
    }

    private void update(JsonNode req, Reply reply, String who) throws IOException, InterruptedException {
        Job job;
        synchronized (this) {
            if (current != null && !current.ended()) {
                reply.refuse(Main.BUSY, "hupd: an update is running on this device (in hupd daemon): try again"
                        + " when it ends, or follow it");
                return;
            }
            job = current = new Job();
        }
        journal.println("hupd daemon: update to " + req.path("targetVersion").asText() + " requested by " + who);
        Thread t = new Thread(() -> runUpdate(job, req), "hupd-update");
        t.start();
        job.stream(reply);
    }

    private void runUpdate(Job job, JsonNode req) {
        int code;
        PrintStream out = new PrintStream(ApiProtocol.lines(l -> job.add(ApiProtocol.line("out", l))), true,
                StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(ApiProtocol.lines(l -> job.add(ApiProtocol.line("err", l))), true,
                StandardCharsets.UTF_8);
        try {
            ApiProtocol.UpdateOrder order = ApiProtocol.updateOrder(req);
            for (var ca : order.registryCa().entrySet()) {
                UpdateCommand.checkRegistryCa(ca.getKey(), ca.getValue());
            }
            code = UpdateCommand.execute(deviceDir, order.request(), order.registries(), order.registryCa(),
                    order.json(), out, err, new ProgressEvents(job),
                    state -> job.add(ApiProtocol.event("state", "state", state)));
        } catch (Exception e) {
            Main.Failure f = Main.failure(e);
            err.println("hupd: " + f.message());
            code = f.code();
        }
        out.close();
        err.close();
        journal.println("hupd daemon: update ended, exit " + code);
        job.end(ApiProtocol.end(code));
    }

    private void abort(Reply reply, String who) throws IOException {
        journal.println("hupd daemon: abort requested by " + who);
        PrintStream out = new PrintStream(ApiProtocol.lines(l -> reply.sendQuietly(ApiProtocol.line("out", l))),
                true, StandardCharsets.UTF_8);
        int code;
        try {
            code = AbortCommand.execute(deviceDir, out);
        } catch (Exception e) {
            Main.Failure f = Main.failure(e);
            reply.send(ApiProtocol.line("err", "hupd: " + f.message()));
            code = f.code();
        }
        out.close();
        reply.send(ApiProtocol.end(code));
    }

    private void status(Reply reply) throws IOException {
        try (Session s = new Session(deviceDir, new PrintStream(OutputStream.nullOutputStream()), true)) {
            var m = StatusReport.collect(s.device, s.store(), s.poweredOn());
            reply.send(ApiProtocol.event("status", "status", m));
            reply.send(ApiProtocol.end(Main.OK));
        } catch (Exception e) {
            Main.Failure f = Main.failure(e);
            reply.send(ApiProtocol.line("err", "hupd: " + f.message()));
            reply.send(ApiProtocol.end(f.code()));
        }
    }

    /** The running update's events from its start, until it ends; at once an end when none runs. */
    private void follow(Reply reply) throws IOException, InterruptedException {
        Job job;
        synchronized (this) {
            job = current != null && !current.ended() ? current : null;
        }
        if (job == null) {
            reply.send(ApiProtocol.event("end", "exit", Main.OK, "idle", true));
            return;
        }
        job.stream(reply);
    }

    @Override
    public void close() throws IOException {
        if (server != null) {
            server.close();
            Files.deleteIfExists(socket);
        }
    }

    /** What goes back on one connection, one event per line. */
    private static final class Reply {
        private final OutputStream out;

        Reply(OutputStream out) {
            this.out = out;
        }

        synchronized void send(String event) throws IOException {
            out.write((event + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        void sendQuietly(String event) {
            try {
                send(event);
            } catch (IOException ignored) {
                // the client went away; the work goes on
            }
        }

        void refuse(int code, String line) throws IOException {
            send(ApiProtocol.line("err", line));
            send(ApiProtocol.end(code));
        }
    }

    /**
     * One update's events, kept from its start so that a client that follows it later sees all of them (an
     * update has a few hundred lines at most: progress is sent per percent).
     */
    private static final class Job {
        private final List<String> events = new ArrayList<>();
        private boolean ended;

        synchronized void add(String event) {
            if (!ended) {
                events.add(event);
                notifyAll();
            }
        }

        synchronized void end(String event) {
            events.add(event);
            ended = true;
            notifyAll();
        }

        synchronized boolean ended() {
            return ended;
        }

        /** Sends every event to {@code reply} until the last; returns early when the client goes away. */
        void stream(Reply reply) throws IOException, InterruptedException {
            int next = 0;
            while (true) {
                List<String> batch;
                boolean last;
                synchronized (this) {
                    while (next == events.size() && !ended) {
                        wait();
                    }
                    batch = new ArrayList<>(events.subList(next, events.size()));
                    next = events.size();
                    last = ended;
                }
                for (String e : batch) {
                    reply.send(e);
                }
                if (last) {
                    return;
                }
            }
        }
    }

    /** Progress as events, one per percent so that a follower's bar moves without a flood of lines. */
    private static final class ProgressEvents implements Progress {
        private final Job job;
        private String task;
        private long total;
        private long done;
        private long lastPercent;

        ProgressEvents(Job job) {
            this.job = job;
        }

        @Override
        public void start(String task, long totalBytes) {
            this.task = task;
            this.total = totalBytes;
            this.done = 0;
            this.lastPercent = 0;
            emit(false);
        }

        @Override
        public void advance(long bytes) {
            done += bytes;
            if (total > 0 && done * 100 / total > lastPercent) {
                lastPercent = done * 100 / total;
                emit(false);
            }
        }

        @Override
        public void finish() {
            if (task != null) {
                emit(true);
            }
            task = null;
        }

        private void emit(boolean finished) {
            job.add(ApiProtocol.event("progress", "task", task, "totalBytes", total, "doneBytes", done,
                    "finished", finished));
        }
    }
}
