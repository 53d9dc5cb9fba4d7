package io.hupd.image.delta;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.hupd.fs.AtomicFiles;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.ImageReference;
import io.hupd.image.oci.ImageSourceException;
import io.hupd.image.oci.OciJson;
import io.hupd.image.registry.RegistryClient;
import io.hupd.image.registry.RegistryOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * Where a delta artifact lives: an OCI layout folder or a registry repository. Reading is for the device (the
 * caller verifies every blob); writing is for {@code hupd delta create}.
 */
public abstract class DeltaRepo {
    public static final int MAX_MANIFEST = 4 * 1024 * 1024;

    public abstract byte[] manifest() throws IOException;

    public abstract InputStream blob(Descriptor d) throws IOException;

    public abstract boolean hasBlob(Descriptor d) throws IOException;

    public abstract void putBlob(Descriptor d, Path content) throws IOException;

    public abstract void putManifest(byte[] manifest) throws IOException;

    public static DeltaRepo open(ImageReference ref, Function<String, RegistryClient> clients, RegistryOptions options) {
        if (ref.isOciLayout()) {
            return new Layout(ref);
        }
        return new Registry(ref, clients.apply(ref.registry()), options);
    }

    /** An OCI image layout; the delta is the manifest its index names with the reference's tag. */
    static final class Layout extends DeltaRepo {
        private final ImageReference ref;

        Layout(ImageReference ref) {
            this.ref = ref;
        }

        private Path dir() {
            return ref.layoutPath();
        }

        private Path blobPath(String digest) {
            return dir().resolve("blobs/sha256").resolve(digest.substring("sha256:".length()));
        }

        @Override
        public byte[] manifest() throws IOException {
            JsonNode index;
            try {
                index = DeltaManifest.JSON.readTree(io.hupd.fs.BoundedFiles.read(dir().resolve("index.json"), io.hupd.fs.BoundedFiles.DOCUMENT));
            } catch (NoSuchFileException | java.io.FileNotFoundException e) {
                throw new DeltaMissingException(ref + ": no OCI layout at " + dir());
            }
            for (JsonNode m : index.path("manifests")) {
                if (ref.tag().equals(m.path("annotations").path(OciJson.REF_NAME).asText(null))) {
                    String digest = m.path("digest").asText("");
                    if (!digest.matches("sha256:[0-9a-f]{64}")) {
                        throw new ImageSourceException(ref + ": index.json names a bad digest for the tag");
                    }
                    byte[] body;
                    try (InputStream in = Files.newInputStream(blobPath(digest))) {
                        body = in.readNBytes(MAX_MANIFEST + 1);
                    } catch (NoSuchFileException e) {
                        throw new ImageSourceException(ref + ": manifest " + digest + " is missing from the layout");
                    }
                    if (!Hashing.sha256(body).equals(digest)) {
                        throw new ImageSourceException(ref + ": manifest " + digest + " does not match its digest");
                    }
                    return body;
                }
            }
            throw new DeltaMissingException(ref + ": tag '" + ref.tag() + "' not found in " + dir());
        }

        @Override
        public InputStream blob(Descriptor d) throws IOException {
            try {
                return Files.newInputStream(blobPath(d.digest()));
            } catch (NoSuchFileException e) {
                throw new ImageSourceException(ref + ": blob " + d.digest() + " is missing from the layout");
            }
        }

        @Override
        public boolean hasBlob(Descriptor d) throws IOException {
            Path p = blobPath(d.digest());
            return Files.isRegularFile(p) && Files.size(p) == d.size();
        }

        @Override
        public void putBlob(Descriptor d, Path content) throws IOException {
            Path target = blobPath(d.digest());
            Files.createDirectories(target.getParent());
            Path tmp = target.resolveSibling(".tmp-" + d.hex());
            Files.copy(content, tmp, StandardCopyOption.REPLACE_EXISTING);
            AtomicFiles.forceFile(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }

        @Override
        public void putManifest(byte[] manifest) throws IOException {
            Files.createDirectories(dir());
            Path marker = dir().resolve("oci-layout");
            if (!Files.exists(marker)) {
                AtomicFiles.writeString(marker, "{\"imageLayoutVersion\":\"1.0.0\"}");
            }
            String digest = Hashing.sha256(manifest);
            Path blob = blobPath(digest);
            Files.createDirectories(blob.getParent());
            AtomicFiles.write(blob, manifest);
            Path indexFile = dir().resolve("index.json");
            ObjectNode index;
            if (Files.exists(indexFile)) {
                index = (ObjectNode) DeltaManifest.JSON.readTree(io.hupd.fs.BoundedFiles.read(indexFile, io.hupd.fs.BoundedFiles.DOCUMENT));
            } else {
                index = DeltaManifest.JSON.createObjectNode();
                index.put("schemaVersion", 2);
                index.put("mediaType", "application/vnd.oci.image.index.v1+json");
            }
            ArrayNode kept = DeltaManifest.JSON.createArrayNode();
            for (JsonNode m : index.path("manifests")) {
                if (!ref.tag().equals(m.path("annotations").path(OciJson.REF_NAME).asText(null))) {
                    kept.add(m);
                }
            }
            ObjectNode entry = kept.addObject();
            entry.put("mediaType", DeltaManifest.OCI_MANIFEST);
            entry.put("digest", digest);
            entry.put("size", manifest.length);
            entry.put("artifactType", DeltaManifest.ARTIFACT_TYPE);
            entry.putObject("annotations").put(OciJson.REF_NAME, ref.tag());
            index.set("manifests", kept);
            AtomicFiles.write(indexFile, DeltaManifest.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(index));
        }
    }

    /**
     * A repository in a registry. Reads go through hupd's registry client (auth, limits, retries); pushes are a
     * plain monolithic upload without credentials, enough for a build machine's own registry. For a registry
     * that needs a login, write the delta to a layout and push it with any OCI tool (oras, skopeo, regctl).
     */
    static final class Registry extends DeltaRepo {
        private final ImageReference ref;
        private final RegistryClient client;
        /**
         * For pushes only, made on the first one: a device only reads (through {@code client}), and building a JDK
         * client costs a TLS context and a selector thread that holds the process ~0.3 s at exit.
         */
        private HttpClient pushClient;

        Registry(ImageReference ref, RegistryClient client, RegistryOptions options) {
            this.ref = ref;
            this.client = client;
        }

        @Override
        public byte[] manifest() throws IOException {
            try {
                return client.manifest(ref.repository(), ref.manifestReference(), List.of(DeltaManifest.OCI_MANIFEST),
                        MAX_MANIFEST).body();
            } catch (ImageSourceException e) {
                if (e.getMessage() != null && e.getMessage().contains("(404)")) {
                    throw new DeltaMissingException(e.getMessage());
                }
                throw e;
            }
        }

        @Override
        public InputStream blob(Descriptor d) throws IOException {
            RegistryClient.BlobBody body = client.blob(ref.repository(), d.digest(), 0, d.size());
            if (body.start() != 0) {
                body.close();
                throw new ImageSourceException(ref + ": the registry sent a part of blob " + d.digest());
            }
            return body.in();
        }

        private URI api(String path) {
            return client.baseUri().resolve("/v2/" + ref.repository() + path);
        }

        @Override
        public boolean hasBlob(Descriptor d) throws IOException {
            HttpResponse<Void> r = send(HttpRequest.newBuilder(api("/blobs/" + d.digest()))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
            return r.statusCode() == 200;
        }

        @Override
        public void putBlob(Descriptor d, Path content) throws IOException {
            HttpResponse<Void> start = send(HttpRequest.newBuilder(api("/blobs/uploads/"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build());
            String location = start.headers().firstValue("Location").orElse(null);
            if (start.statusCode() != 202 || location == null) {
                throw new IOException(ref + ": the registry refused a blob upload (HTTP " + start.statusCode()
                        + "): pushing needs a registry that accepts anonymous pushes; write to an oci: layout"
                        + " and push it with an OCI tool instead");
            }
            URI upload = api("/").resolve(location);
            String sep = upload.getQuery() == null ? "?" : "&";
            HttpResponse<Void> put = send(HttpRequest.newBuilder(URI.create(upload + sep + "digest=" + d.digest()))
                    .header("Content-Type", "application/octet-stream")
                    .PUT(HttpRequest.BodyPublishers.ofFile(content)).build());
            if (put.statusCode() != 201) {
                throw new IOException(ref + ": the registry refused blob " + d.digest() + " (HTTP "
                        + put.statusCode() + ")");
            }
        }

        @Override
        public void putManifest(byte[] manifest) throws IOException {
            HttpResponse<Void> r = send(HttpRequest.newBuilder(api("/manifests/" + ref.tag()))
                    .header("Content-Type", DeltaManifest.OCI_MANIFEST)
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(manifest)).build());
            if (r.statusCode() != 201) {
                throw new IOException(ref + ": the registry refused the delta's manifest (HTTP " + r.statusCode()
                        + ")");
            }
        }

        private HttpResponse<Void> send(HttpRequest request) throws IOException {
            try {
                if (pushClient == null) {
                    pushClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
                            .followRedirects(HttpClient.Redirect.NORMAL).build();
                }
                return pushClient.send(request, HttpResponse.BodyHandlers.discarding());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while talking to " + ref.registry());
            }
        }
    }
}
