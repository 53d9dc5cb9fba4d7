package io.hupd.image.fetch;

import com.fasterxml.jackson.databind.JsonNode;
import io.hupd.image.oci.Descriptor;
import io.hupd.image.oci.FsImages;
import io.hupd.image.oci.ImageSourceException;
import io.hupd.image.oci.MediaTypes;
import io.hupd.image.oci.OciJson;
import io.hupd.image.oci.ResolvedImage;
import io.hupd.image.oci.Text;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** What every source checks in an image manifest and its config, wherever the bytes came from. */
final class ImageManifests {
    /** Reads a small, verified blob (the config) from wherever the source keeps it. */
    interface ConfigReader {
        byte[] read(Descriptor config) throws IOException;
    }

    private ImageManifests() {}

    /** Image manifests and indexes of the OCI and Docker v2 formats are all schema version 2. */
    static void checkSchemaVersion(JsonNode doc, String what) throws ImageSourceException {
        JsonNode v = doc.get("schemaVersion");
        if (v == null || !v.isIntegralNumber() || v.intValue() != 2) {
            throw new ImageSourceException(what + ": schemaVersion is not 2");
        }
    }

    /** Index entries named in an error message; a hostile index may have thousands. */
    private static final int PLATFORMS_LISTED = 10;

    /**
     * The one image of an image index this device can run: the linux entry for {@code architecture}. Every
     * source picks with this, so an index reads the same from a layout and from a registry.
     *
     * @param architecture the device's; null accepts any, so an index with several linux images is ambiguous
     * @throws ImageSourceException when no entry, or more than one, fits; the message lists what the index has
     */
    static Descriptor pickPlatform(JsonNode index, String what, String architecture) throws ImageSourceException {
        checkSchemaVersion(index, what);
        JsonNode manifests = OciJson.requireArray(index, "manifests", what);
        List<Descriptor> candidates = new ArrayList<>();
        List<String> platforms = new ArrayList<>();
        int nested = 0;
        for (int i = 0; i < manifests.size(); i++) {
            String entryWhat = what + " manifests[" + i + "]";
            Descriptor d = OciJson.descriptor(manifests.get(i), entryWhat);
            if (MediaTypes.INDEXES.contains(d.mediaType())) {
                nested++;
                continue;
            }
            if (!MediaTypes.MANIFESTS.contains(d.mediaType())) {
                continue;
            }
            JsonNode platform = OciJson.optionalObject(manifests.get(i), "platform", entryWhat);
            String os = platform == null ? null : OciJson.optionalString(platform, "os", entryWhat + " platform");
            String arch = platform == null ? null
                    : OciJson.optionalString(platform, "architecture", entryWhat + " platform");
            platforms.add((os == null ? "?" : Text.quote(os)) + "/" + (arch == null ? "?" : Text.quote(arch)));
            // attestation manifests (platform unknown/unknown) and other OSes are never a host OS
            if (os != null && !os.equals("linux")) {
                continue;
            }
            if (architecture != null && arch != null && !arch.equals(architecture)) {
                continue;
            }
            candidates.add(d);
        }
        if (candidates.size() == 1) {
            return candidates.get(0);
        }
        String has = platforms.isEmpty() ? (nested > 0 ? "" : "none") : String.join(", ", platforms.subList(0,
                Math.min(platforms.size(), PLATFORMS_LISTED)))
                + (platforms.size() > PLATFORMS_LISTED ? " and " + (platforms.size() - PLATFORMS_LISTED) + " more" : "");
        if (nested > 0) {
            // An index inside an index is legal OCI but no build tool makes one for an OS image; following it
            // would let a hostile registry chain them.
            has += (has.isEmpty() ? "" : ", and ") + (nested == 1 ? "an image index" : nested + " image indexes")
                    + " inside it, which hupd does not follow: give the inner index's digest as the reference";
        }
        if (candidates.isEmpty()) {
            throw new ImageSourceException(what + " has no linux image"
                    + (architecture == null ? "" : " for " + architecture) + " (it has " + has + ")");
        }
        throw new ImageSourceException(what + " has " + candidates.size() + " candidate images for "
                + (architecture == null ? "an unknown architecture" : architecture) + "; refusing to guess (it has "
                + has + ")");
    }

    static ResolvedImage resolve(String ref, JsonNode manifest, String manifestDigest, String what,
            ConfigReader configs) throws IOException {
        Descriptor config = OciJson.descriptor(manifest.get("config"), what + " config");
        if (!MediaTypes.CONFIGS.contains(config.mediaType())) {
            throw new ImageSourceException(what + ": config has unsupported media type '" + config.mediaType()
                    + "' (not an OS image)");
        }
        JsonNode layerArray = OciJson.requireArray(manifest, "layers", what);
        if (layerArray.isEmpty()) {
            throw new ImageSourceException(what + " has no layers");
        }
        List<Descriptor> layers = new ArrayList<>();
        for (int i = 0; i < layerArray.size(); i++) {
            Descriptor layer = OciJson.descriptor(layerArray.get(i), what + " layer " + (i + 1));
            String why = FsImages.isFsImageLayer(layer.mediaType()) ? null
                    : MediaTypes.whyLayerUnsupported(layer.mediaType());
            if (why != null) {
                throw new ImageSourceException(what + " layer " + (i + 1) + ": " + why);
            }
            layers.add(layer);
        }

        String configWhat = ref + ": config " + config.digest();
        JsonNode configJson = OciJson.parseObject(configs.read(config), configWhat);
        String architecture = OciJson.requireString(configJson, "architecture", configWhat);
        String os = OciJson.requireString(configJson, "os", configWhat);
        JsonNode inner = OciJson.optionalObject(configJson, "config", configWhat);
        Map<String, String> labels = inner == null ? Map.of()
                : OciJson.stringMap(inner, "Labels", configWhat + " config");
        JsonNode rootfs = OciJson.optionalObject(configJson, "rootfs", configWhat);
        if (rootfs != null) {
            JsonNode diffIds = OciJson.requireArray(rootfs, "diff_ids", configWhat + " rootfs");
            if (diffIds.size() != layers.size()) {
                throw new ImageSourceException(configWhat + " lists " + diffIds.size()
                        + " diff_ids but the manifest has " + layers.size() + " layers");
            }
        }
        return new ResolvedImage(ref, manifestDigest, config, layers, architecture, os, labels);
    }
}
