package io.hupd.image.fetch;

import com.fasterxml.jackson.databind.JsonNode;
import io.hupd.image.cache.BlobStore;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.Digests;
import io.hupd.image.oci.ImageReference;
import io.hupd.image.oci.ImageSourceException;
import io.hupd.image.oci.MediaTypes;
import io.hupd.image.oci.OciJson;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.oci.Text;
import io.hupd.image.registry.RegistryClient.BlobBody;
import io.hupd.image.registry.RegistryClient;
import io.hupd.image.registry.RegistryOptions;
import io.hupd.image.trust.SignatureFetcher;
import io.hupd.image.trust.TrustStore;
import io.hupd.ports.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * An image in an OCI distribution registry ({@code docker://HOST[:PORT]/REPO[:TAG|@DIGEST]}). The tag is read
 * once; from then on everything is fetched by digest and checked against it, so a tag moved mid-update cannot
 * mix two images. Descriptor {@code urls} are never followed: blobs come only from the registry named.
 */
public final class RegistrySource implements ImageSource {
    static final List<String> ACCEPT = List.of(MediaTypes.OCI_MANIFEST, MediaTypes.OCI_INDEX,
            MediaTypes.DOCKER_MANIFEST, MediaTypes.DOCKER_LIST);
    private static final String DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1";

    private final ImageReference ref;
    private final RegistryClient client;
    private final RegistryOptions options;
    private final Map<String, ResolvedImage> pins;
    private final TrustStore trust;
    /** Small blobs (the config) this source has read and verified while resolving, by digest. */
    private final Map<String, byte[]> verifiedSmallBlobs = new java.util.HashMap<>();

    /**
     * @param pins the images this process already resolved, by reference: the second look at a tag (the
     *     pre-flight check, then the fetch) gets the same digests as the first
     */
    RegistrySource(ImageReference ref, RegistryClient client, RegistryOptions options, Map<String, ResolvedImage> pins) {
        this(ref, client, options, pins, TrustStore.NONE);
    }

    /** @param trust the keys and policy the manifest's signature is checked against, before any blob is read */
    RegistrySource(ImageReference ref, RegistryClient client, RegistryOptions options, Map<String, ResolvedImage> pins,
            TrustStore trust) {
        this.ref = Objects.requireNonNull(ref, "ref");
        if (ref.isOciLayout()) {
            throw new IllegalArgumentException("not a docker:// reference: " + ref);
        }
        this.client = client;
        this.options = options;
        this.pins = pins;
        this.trust = trust;
    }

    @Override
    public String reference() {
        return ref.toString();
    }

    @Override
    public ResolvedImage resolve() throws IOException {
        ResolvedImage pinned = pins.get(ref.toString());
        if (pinned != null) {
            return pinned;
        }
        String repo = ref.repository();
        RegistryClient.Document doc = client.manifest(repo, ref.manifestReference(), ACCEPT,
                OciJson.MAX_DOCUMENT_BYTES);
        String digest = Digests.of(doc.body());
        String what = ref + ": manifest";
        if (ref.digest().isPresent() && !ref.digest().get().equals(digest)) {
            throw new ImageSourceException(what + " digest mismatch: asked for " + ref.digest().get() + ", got "
                    + digest);
        }
        String headerDigest = doc.dockerContentDigest();
        if (headerDigest != null && Digests.isSha256(headerDigest.strip()) && !headerDigest.strip().equals(digest)) {
            throw new ImageSourceException(what + ": the registry says its digest is " + headerDigest.strip()
                    + " but its content hashes to " + digest);
        }
        trust.check(ref.registry() + "/" + repo, ref.digest().isPresent() ? null : ref.tag(), digest,
                new Signatures());
        JsonNode json = OciJson.parseObject(doc.body(), what);
        String type = mediaType(json, doc.contentType(), what);
        if (!MediaTypes.INDEXES.contains(type) && !MediaTypes.MANIFESTS.contains(type)) {
            throw new ImageSourceException(what + " has unsupported media type '" + Text.quote(type) + "'");
        }
        Descriptor manifestDescriptor = new Descriptor(type, digest, doc.body().length);
        if (MediaTypes.INDEXES.contains(type)) {
            manifestDescriptor = ImageManifests.pickPlatform(json, ref + ": image index " + digest,
                    options.architecture());
            byte[] child = fetchManifest(manifestDescriptor);
            json = OciJson.parseObject(child, ref + ": manifest " + manifestDescriptor.digest());
            String childType = mediaType(json, manifestDescriptor.mediaType(), ref + ": manifest "
                    + manifestDescriptor.digest());
            if (!childType.equals(manifestDescriptor.mediaType())) {
                throw new ImageSourceException(ref + ": manifest " + manifestDescriptor.digest()
                        + " says its media type is '" + childType + "' but the index says '"
                        + manifestDescriptor.mediaType() + "'");
            }
        }
        ResolvedImage image = fromManifest(json, manifestDescriptor.digest());
        pins.put(ref.toString(), image);
        return image;
    }

    /** The image's cosign signatures, in its own repository. */
    private final class Signatures implements SignatureFetcher {
        @Override
        public byte[] manifest(String tag) throws IOException {
            try {
                return client.manifest(ref.repository(), tag, List.of(MediaTypes.OCI_MANIFEST), 256 * 1024).body();
            } catch (RegistryClient.NotFound e) {
                return null;
            }
        }

        @Override
        public byte[] blob(String digest, long size) throws IOException {
            try (BlobBody body = client.blob(ref.repository(), digest, 0, size)) {
                return body.start() != 0 ? null : body.in().readNBytes((int) size + 1);
            } catch (RegistryClient.NotFound e) {
                return null;
            }
        }
    }

    /** The media type the document declares, checked against what the registry said it sent. */
    private static String mediaType(JsonNode json, String contentType, String what) throws ImageSourceException {
        JsonNode v = json.get("schemaVersion");
        if (v != null && v.isIntegralNumber() && v.intValue() == 1) {
            throw new ImageSourceException(what + " is a Docker schema 1 manifest, which is not supported:"
                    + " push the image again with a current tool");
        }
        String declared = OciJson.optionalString(json, "mediaType", what);
        String header = contentType == null ? null
                : contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (header != null && header.startsWith(DOCKER_SCHEMA1)) {
            throw new ImageSourceException(what + " is a Docker schema 1 manifest, which is not supported:"
                    + " push the image again with a current tool");
        }
        boolean headerKnown = header != null && (MediaTypes.MANIFESTS.contains(header)
                || MediaTypes.INDEXES.contains(header));
        if (declared != null) {
            if (headerKnown && !header.equals(declared)) {
                throw new ImageSourceException(what + " says its media type is '" + Text.quote(declared)
                        + "' but the registry sent it as '" + header + "'");
            }
            return declared;
        }
        if (headerKnown) {
            return header;
        }
        // OCI allows leaving mediaType out; the shape says which document it is.
        if (json.has("manifests")) {
            return MediaTypes.OCI_INDEX;
        }
        if (json.has("layers")) {
            return MediaTypes.OCI_MANIFEST;
        }
        throw new ImageSourceException(what + " has no media type and is neither a manifest nor an index");
    }

    private byte[] fetchManifest(Descriptor d) throws IOException {
        String what = ref + ": manifest " + d.digest();
        if (d.size() > OciJson.MAX_DOCUMENT_BYTES) {
            throw new ImageSourceException(what + " declares " + d.size() + " bytes, more than the "
                    + OciJson.MAX_DOCUMENT_BYTES + " allowed");
        }
        RegistryClient.Document doc = client.manifest(ref.repository(), d.digest(), ACCEPT, (int) d.size());
        checkContent(doc.body(), d, what);
        return doc.body();
    }

    private static void checkContent(byte[] content, Descriptor d, String what) throws ImageSourceException {
        if (content.length != d.size()) {
            throw new ImageSourceException(what + " has " + content.length + " bytes, the descriptor says "
                    + d.size());
        }
        String actual = Digests.of(content);
        if (!actual.equals(d.digest())) {
            throw new ImageSourceException(what + " digest mismatch: expected " + d.digest() + ", got " + actual);
        }
    }

    private ResolvedImage fromManifest(JsonNode manifest, String manifestDigest) throws IOException {
        String what = ref + ": manifest " + manifestDigest;
        ImageManifests.checkSchemaVersion(manifest, what);
        return ImageManifests.resolve(ref.toString(), manifest, manifestDigest, what,
                d -> fetchSmallBlob(d, ref + ": config " + d.digest()));
    }

    private byte[] fetchSmallBlob(Descriptor d, String what) throws IOException {
        if (d.size() > OciJson.MAX_DOCUMENT_BYTES) {
            throw new ImageSourceException(what + " declares " + d.size() + " bytes, more than the "
                    + OciJson.MAX_DOCUMENT_BYTES + " allowed");
        }
        byte[] content;
        try (BlobBody body = client.blob(ref.repository(), d.digest(), 0, d.size())) {
            if (body.start() != 0) {
                throw new ImageSourceException(what + ": the registry sent a part of it");
            }
            InputStream in = body.in();
            content = in.readNBytes((int) d.size() + 1);
        }
        checkContent(content, d, what);
        verifiedSmallBlobs.put(d.digest(), content);
        return content;
    }


    @Override
    public long fetch(ResolvedImage image, BlobStore store, Progress progress) throws IOException {
        List<ResumableDownload> downloads = new ArrayList<>();
        List<Descriptor> wanted = new ArrayList<>();
        long remaining = 0;
        long smallBlobBytes = 0;
        for (Descriptor d : image.blobs()) {
            if (store.has(d)) {
                try {
                    store.verify(d);
                    continue;
                } catch (ImageSourceException e) {
                    // verify() deleted the bad copy; download it again
                }
            }
            byte[] known = verifiedSmallBlobs.get(d.digest());
            if (known != null) {
                // the config, read (and verified) by resolve(): one request fewer per update; its bytes did
                // cross the wire for this image, so they count
                smallBlobBytes += store.put(d, new java.io.ByteArrayInputStream(known), Progress.NONE);
                continue;
            }
            ResumableDownload dl = new ResumableDownload(d, store, options.maxAttempts(), options.lowSpeedBytes());
            remaining += d.size() - dl.resumeFrom();
            downloads.add(dl);
            wanted.add(d);
        }
        if (downloads.isEmpty()) {
            client.release();
            return smallBlobBytes;
        }
        progress.start("download " + ref, remaining);
        long wire = smallBlobBytes;
        try {
            for (int i = 0; i < downloads.size(); i++) {
                Descriptor d = wanted.get(i);
                ResumableDownload dl = downloads.get(i);
                progress.note((d.equals(image.config()) ? "config " : "layer ") + d.digest() + " from " + ref);
                try {
                    dl.run((offset, left) -> client.blob(ref.repository(), d.digest(), offset, left), progress,
                            ref.toString());
                } finally {
                    wire += dl.wireBytes();
                }
            }
        } finally {
            progress.finish();
            // The connection is not needed after the blobs (a later request makes a new one); its thread would
            // cost the process ~0.3 s at exit (RegistryClient.release).
            client.release();
        }
        return wire;
    }

    @Override
    public java.io.InputStream openRange(Descriptor blob, long offset, long length) throws IOException {
        return client.blobRange(ref.repository(), blob.digest(), offset, length);
    }

    @Override
    public void release() {
        client.release();
    }
}
