package io.hupd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.hupd.image.registry.RegistrySettings;
import io.hupd.ports.UserInputException;
import io.hupd.runner.UpdateRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A command's side of the local API: sends one request to the running daemon and prints what it streams back. */
final class DaemonClient implements AutoCloseable {
    private final Path socket;
    private final SocketChannel channel;

    private DaemonClient(Path socket, SocketChannel channel) {
        this.socket = socket;
        this.channel = channel;
    }

    /**
     * The daemon at {@code socket}, or empty when none runs there (no socket file, or a stale one nobody listens
     * on): then the command does the work itself, as without a daemon.
     *
     * @throws UserInputException when a daemon's socket is there but closed to this user
     */
    static Optional<DaemonClient> connect(Path socket) {
        Path folder = socket.getParent();
        if (Files.isDirectory(folder) && !Files.isExecutable(folder)) {
            throw refused(socket);
        }
        if (!Files.exists(socket)) {
            return Optional.empty();
        }
        SocketChannel ch = null;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(socket));
            return Optional.of(new DaemonClient(socket, ch));
        } catch (ConnectException e) {
            closeQuietly(ch);
            return Optional.empty(); // left by a daemon that died: nobody holds the device through it
        } catch (IOException e) {
            closeQuietly(ch);
            if (String.valueOf(e.getMessage()).contains("Permission denied")) {
                throw refused(socket);
            }
            throw new UserInputException("cannot reach the daemon at " + socket + ": " + e.getMessage());
        }
    }

    private static UserInputException refused(Path socket) {
        return new UserInputException("the daemon's socket " + socket + " is not open to this user: only root"
                + " (or the daemon's own user) may start or abort an update");
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            if (ch != null) {
                ch.close();
            }
        } catch (IOException ignored) {
            // nothing to release
        }
    }

    /** Asks for the update with every registry option {@code hupd update} was given, as it would use them. */
    int update(UpdateRequest r, boolean json, RegistrySettings registries, Map<String, Path> registryCa)
            throws IOException {
        List<String> images = new ArrayList<>();
        r.images().forEach(ref -> images.add(fromHere(ref)));
        UpdateRequest absolute = new UpdateRequest(r.targetVersion(), images, r.delta() == null ? null
                : fromHere(r.delta()), r.requireUpgrade(), r.reboot());
        Map<String, Path> ca = new LinkedHashMap<>();
        registryCa.forEach((host, file) -> ca.put(host, file.toAbsolutePath().normalize()));
        return exchange(ApiProtocol.updateRequest(new ApiProtocol.UpdateOrder(absolute, json, registries, ca)));
    }

    int abort() throws IOException {
        return exchange(Map.of("op", "abort"));
    }

    /**
     * The daemon runs in a folder of its own: a layout path the user gave relative to theirs is made absolute
     * here, where it means what they meant.
     */
    private static String fromHere(String ref) {
        if (ref.startsWith("oci:") && !ref.startsWith("oci:/") && ref.length() > 4) {
            return "oci:" + Path.of("").toAbsolutePath().resolve(ref.substring(4));
        }
        return ref;
    }

    private int exchange(Map<String, Object> request) throws IOException {
        OutputStream out = Channels.newOutputStream(channel);
        out.write((ApiProtocol.JSON.writeValueAsString(request) + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        InputStream in = Channels.newInputStream(channel);
        for (String line; (line = ApiProtocol.readLine(in, 1 << 20)) != null; ) {
            JsonNode e = ApiProtocol.JSON.readTree(line);
            switch (e.path("event").asText()) {
                case "out" -> {
                    System.out.println(e.path("line").asText());
                    System.out.flush();
                }
                case "err" -> {
                    System.err.println(e.path("line").asText());
                    System.err.flush();
                }
                case "end" -> {
                    return e.path("exit").asInt(Main.FAILED);
                }
                default -> { } // state and progress events are for followers; the lines say the same
            }
        }
        throw new UserInputException("the daemon at " + socket + " closed the connection before the end: see"
                + " 'hupd status'");
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
