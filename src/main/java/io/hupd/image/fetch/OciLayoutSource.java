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
import io.hupd.image.trust.SignatureFetcher;
import io.hupd.image.trust.SimpleSigning;
import io.hupd.image.trust.TrustStore;
import io.hupd.ports.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An image in an OCI image layout on disk ({@code oci:PATH[:TAG]}). The layout is as untrusted as a registry:
 * every document and blob is checked against its descriptor's digest and size.
 */
public final class OciLayoutSource implements ImageSource {
    private final ImageReference ref;
    private final String preferredArchitecture;
    private final TrustStore trust;

    public OciLayoutSource(ImageReference ref) {
        this(ref, null);
    }

    /**
     * @param preferredArchitecture when the tag names an image index with several linux images, the one for
     *     this architecture is taken; null means such an index is refused as ambiguous
     */
    public OciLayoutSource(ImageReference ref, String preferredArchitecture) {
        this(ref, preferredArchitecture, TrustStore.NONE);
    }

    /** @param trust the keys and policy the tag's signature is checked against, before any blob is read */
    public OciLayoutSource(ImageReference ref, String preferredArchitecture, TrustStore trust) {
        this.trust = trust;
        this.ref = Objects.requireNonNull(ref, "ref");
        if (!ref.isOciLayout()) {
            throw new IllegalArgumentException("not an oci: reference: " + ref);
        }
        this.preferredArchitecture = preferredArchitecture;
    }

    @Override
    public String reference() {
        return ref.toString();
    }

    private Path layout() {
        return ref.layoutPath();
    }

    @Override
    public ResolvedImage resolve() throws IOException {
        Path indexFile = layout().resolve("index.json");
        if (!Files.isDirectory(layout())) {
            throw new ImageSourceException(ref + ": the OCI layout folder " + layout() + " does not exist");
        }
        byte[] indexBytes = readCapped(indexFile, "index.json");
        String indexWhat = ref + ": " + indexFile;
        JsonNode index = OciJson.parseObject(indexBytes, indexWhat);
        Descriptor entry = findTag(index, indexWhat);
        trust.check(null, ref.tag(), entry.digest(), new SignatureFetcher() {
            @Override
            public byte[] manifest(String tag) throws IOException {
                for (JsonNode m : index.path("manifests")) {
                    if (tag.equals(m.path("annotations").path(OciJson.REF_NAME).asText(null))) {
                        return readBlob(OciJson.descriptor(m, indexWhat), "signature manifest");
                    }
                }
                return null;
            }

            @Override
            public byte[] blob(String digest, long size) throws IOException {
                return readBlob(new Descriptor(SimpleSigning.MEDIA_TYPE, digest, size), "signature payload");
            }
        });

        Descriptor manifestDescriptor = entry;
        if (MediaTypes.INDEXES.contains(entry.mediaType())) {
            manifestDescriptor = pickFromNestedIndex(entry);
        } else if (!MediaTypes.MANIFESTS.contains(entry.mediaType())) {
            throw new ImageSourceException(ref + ": tag '" + ref.tag() + "' points to unsupported media type '"
                    + entry.mediaType() + "'");
        }
        String manifestWhat = ref + ": manifest " + manifestDescriptor.digest();
        JsonNode manifest = OciJson.parseObject(readBlob(manifestDescriptor, "manifest"), manifestWhat);
        ImageManifests.checkSchemaVersion(manifest, manifestWhat);
        String declaredType = OciJson.optionalString(manifest, "mediaType", manifestWhat);
        if (declaredType != null && !declaredType.equals(manifestDescriptor.mediaType())) {
            throw new ImageSourceException(manifestWhat + " says its media type is '" + Text.quote(declaredType)
                    + "' but the index says '" + manifestDescriptor.mediaType() + "'");
        }
        return ImageManifests.resolve(ref.toString(), manifest, manifestDescriptor.digest(), manifestWhat,
                d -> readBlob(d, "config"));
    }

    private Descriptor findTag(JsonNode index, String what) throws ImageSourceException {
        ImageManifests.checkSchemaVersion(index, what);
        JsonNode manifests = OciJson.requireArray(index, "manifests", what);
        List<Descriptor> matches = new ArrayList<>();
        List<String> tags = new ArrayList<>();
        for (int i = 0; i < manifests.size(); i++) {
            JsonNode m = manifests.get(i);
            String entryWhat = what + " manifests[" + i + "]";
            if (!m.isObject()) {
                throw new ImageSourceException(entryWhat + " is not a JSON object");
            }
            Map<String, String> annotations = OciJson.stringMap(m, "annotations", entryWhat);
            String name = annotations.get(OciJson.REF_NAME);
            if (name == null) {
                continue;
            }
            tags.add(name);
            if (name.equals(ref.tag())) {
                matches.add(OciJson.descriptor(m, entryWhat));
            }
        }
        if (matches.isEmpty()) {
            throw new ImageSourceException(ref + ": tag '" + ref.tag() + "' not found in " + layout()
                    + (tags.isEmpty() ? " (it has no tags)" : " (tags: " + Text.quote(String.join(", ", tags)) + ")"));
        }
        if (matches.size() > 1) {
            throw new ImageSourceException(ref + ": tag '" + ref.tag() + "' names " + matches.size()
                    + " different manifests in index.json; refusing to guess");
        }
        return matches.get(0);
    }

    private Descriptor pickFromNestedIndex(Descriptor indexDescriptor) throws IOException {
        String what = ref + ": image index " + indexDescriptor.digest();
        JsonNode nested = OciJson.parseObject(readBlob(indexDescriptor, "image index"), what);
        return ImageManifests.pickPlatform(nested, what, preferredArchitecture);
    }

    private byte[] readCapped(Path file, String name) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] content = in.readNBytes(OciJson.MAX_DOCUMENT_BYTES + 1);
            if (content.length > OciJson.MAX_DOCUMENT_BYTES) {
                throw new ImageSourceException(ref + ": " + file + " is larger than " + OciJson.MAX_DOCUMENT_BYTES
                        + " bytes");
            }
            return content;
        } catch (NoSuchFileException e) {
            throw new ImageSourceException(ref + ": " + layout() + " is not an OCI image layout (no " + name + ")");
        }
    }

    /** Reads a small JSON blob, refusing it when its size or digest differs from the descriptor. */
    private byte[] readBlob(Descriptor d, String kind) throws IOException {
        if (d.size() > OciJson.MAX_DOCUMENT_BYTES) {
            throw new ImageSourceException(ref + ": " + kind + " " + d.digest() + " declares " + d.size()
                    + " bytes, more than the " + OciJson.MAX_DOCUMENT_BYTES + " allowed");
        }
        Path p = blobPath(d);
        byte[] content;
        try (InputStream in = Files.newInputStream(p)) {
            content = in.readNBytes((int) d.size() + 1);
        } catch (NoSuchFileException e) {
            throw new ImageSourceException(ref + ": " + kind + " blob " + d.digest() + " is missing from the layout");
        }
        if (content.length != d.size()) {
            throw new ImageSourceException(ref + ": " + kind + " blob " + d.digest() + " has "
                    + (content.length > d.size() ? "more than " + d.size() : content.length)
                    + " bytes, the descriptor says " + d.size());
        }
        String actual = Digests.of(content);
        if (!actual.equals(d.digest())) {
            throw new ImageSourceException(ref + ": " + kind + " blob digest mismatch: expected " + d.digest()
                    + ", got " + actual);
        }
        return content;
    }

    private Path blobPath(Descriptor d) {
        return layout().resolve("blobs").resolve("sha256").resolve(d.hex());
    }

    @Override
    public long fetch(ResolvedImage image, BlobStore store, Progress progress) throws IOException {
        List<Descriptor> missing = new ArrayList<>();
        for (Descriptor d : image.blobs()) {
            if (store.has(d)) {
                try {
                    store.verify(d);
                    continue;
                } catch (ImageSourceException e) {
                    // verify() deleted the bad copy; fetch it again from the layout
                }
            }
            missing.add(d);
        }
        long total = 0;
        for (Descriptor d : missing) {
            total += d.size();
        }
        if (missing.isEmpty()) {
            return 0;
        }
        progress.start("copy " + ref, total);
        long copied = 0;
        try {
            for (Descriptor d : missing) {
                Path p = blobPath(d);
                BasicFileAttributes a;
                try {
                    a = Files.readAttributes(p, BasicFileAttributes.class);
                } catch (NoSuchFileException e) {
                    throw new ImageSourceException(ref + ": blob " + d.digest() + " is missing from the layout");
                }
                if (!a.isRegularFile() || a.size() != d.size()) {
                    throw new ImageSourceException(ref + ": blob " + d.digest() + " in the layout has "
                            + a.size() + " bytes, the descriptor says " + d.size());
                }
                try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
                    copied += store.put(d, in, progress);
                } catch (ImageSourceException e) {
                    throw new ImageSourceException(ref + ": " + e.getMessage(), e);
                }
            }
        } finally {
            progress.finish();
        }
        return copied;
    }

    @Override
    public InputStream openRange(Descriptor blob, long offset, long length) throws IOException {
        Path p = blobPath(blob);
        java.nio.channels.FileChannel ch;
        try {
            ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.READ,
                    LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw new ImageSourceException(ref + ": blob " + blob.digest() + " is missing from the layout");
        }
        if (ch.size() != blob.size() || offset < 0 || length < 0 || offset + length > blob.size()) {
            long size = ch.size();
            ch.close();
            throw new ImageSourceException(ref + ": blob " + blob.digest() + " in the layout has " + size
                    + " bytes, the descriptor says " + blob.size());
        }
        ch.position(offset);
        return new io.hupd.fs.BoundedStream(java.nio.channels.Channels.newInputStream(ch), length);
    }
}
