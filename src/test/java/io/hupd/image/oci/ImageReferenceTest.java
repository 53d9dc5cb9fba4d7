package io.hupd.image.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.image.fetch.ImageSources;
import io.hupd.image.fetch.OciLayoutSource;
import io.hupd.image.fetch.RegistrySource;
import io.hupd.ports.UserInputException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ImageReferenceTest {
    private static final String DIGEST = "sha256:" + "ab".repeat(32);

    @Test
    void ociLayoutWithAndWithoutTag() {
        ImageReference r = ImageReference.parse("oci:/srv/images/os:2.115.3");
        assertTrue(r.isOciLayout());
        assertEquals(Path.of("/srv/images/os"), r.layoutPath());
        assertEquals("2.115.3", r.tag());
        assertEquals("oci:/srv/images/os:2.115.3", r.toString());

        ImageReference latest = ImageReference.parse("oci:./img");
        assertEquals(Path.of("img"), latest.layoutPath());
        assertEquals("latest", latest.tag());
        assertEquals("oci:img:latest", latest.toString());

        ImageReference colonInPath = ImageReference.parse("oci:/data/a:b/img");
        assertEquals(Path.of("/data/a:b/img"), colonInPath.layoutPath());
        assertEquals("latest", colonInPath.tag());
        assertEquals(colonInPath, ImageReference.parse(colonInPath.toString()));
    }

    @Test
    void dockerReferences() {
        ImageReference r = ImageReference.parse("docker://registry.example.com:5000/balena/raspberrypi4-64:2.115.3");
        assertFalse(r.isOciLayout());
        assertEquals("registry.example.com", r.host());
        assertEquals(OptionalInt.of(5000), r.port());
        assertEquals("balena/raspberrypi4-64", r.repository());
        assertEquals("2.115.3", r.tag());
        assertEquals(Optional.empty(), r.digest());
        assertEquals("2.115.3", r.manifestReference());
        assertEquals("docker://registry.example.com:5000/balena/raspberrypi4-64:2.115.3", r.toString());

        ImageReference pinned = ImageReference.parse("docker://127.0.0.1:5000/hostos@" + DIGEST);
        assertEquals(Optional.of(DIGEST), pinned.digest());
        assertEquals(DIGEST, pinned.manifestReference());
        assertEquals("docker://127.0.0.1:5000/hostos@" + DIGEST, pinned.toString());

        ImageReference hub = ImageReference.parse("docker://docker.io/library/ubuntu");
        assertEquals(OptionalInt.empty(), hub.port());
        assertEquals("latest", hub.tag());
        assertEquals("docker://docker.io/library/ubuntu:latest", hub.toString());

        assertEquals("localhost", ImageReference.parse("docker://localhost/x:y").host());
        assertEquals("[::1]", ImageReference.parse("docker://[::1]:5000/x").host());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
        "''|image reference is empty",
        "'   '|image reference is empty",
        "ubuntu:22.04|has no scheme",
        "/srv/img|has no scheme",
        "http://x/y|unknown scheme 'http:'",
        "oci:|has no layout path",
        "oci::v1|has no layout path",
        "oci:/img:|bad tag ''",
        "oci:/img:-bad|bad tag '-bad'",
        "oci:/img:a*b|bad tag 'a*b'",
        "docker://|has no registry host",
        "docker://ubuntu|has no repository after the host",
        "docker://ubuntu/x|does not start with a registry host",
        "docker://registry.example.com/|has no repository",
        "docker://registry.example.com:99999/x|bad port '99999'",
        "docker://registry.example.com:http/x|bad port 'http'",
        "docker://bad_host!.com/x|bad registry host",
        "docker://r.example.com/UPPER|bad repository 'UPPER'",
        "docker://r.example.com/a//b|bad repository",
        "docker://r.example.com/a/../b|bad repository",
        "docker://r.example.com/x@sha256:abc|bad digest 'sha256:abc'",
        "docker://r.example.com/x@md5:0123|bad digest",
        "docker://r.example.com/x:@sha256:|bad digest",
        "' oci:/x'|leading or trailing spaces",
    })
    void badReferencesAreRefusedClearly(String ref, String expected) {
        UserInputException e = assertThrows(UserInputException.class, () -> ImageReference.parse(ref));
        assertTrue(e.getMessage().contains(expected), "'" + e.getMessage() + "' lacks '" + expected + "'");
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void hostileStringsStayOnOneLine() {
        for (String ref : new String[] {"oci:/x\n:v1", "oci:/x\0/y", "docker://r.example.com/x\r\nHost: evil",
                "\u001b[31moci:/x"}) {
            UserInputException e = assertThrows(UserInputException.class, () -> ImageReference.parse(ref));
            assertTrue(e.getMessage().contains("control characters"), e.getMessage());
            assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\r") || e.getMessage().contains("\0"),
                    e.getMessage());
        }
        UserInputException tooLong = assertThrows(UserInputException.class,
                () -> ImageReference.parse("oci:/" + "x".repeat(10_000)));
        assertTrue(tooLong.getMessage().contains("longer than 4096"));
        assertTrue(tooLong.getMessage().length() < 200);
    }

    @Test
    void eachKindOfReferenceOpensItsSource() {
        // Opening does not touch the network: a registry is only asked when the image is resolved.
        assertTrue(ImageSources.open("docker://registry.example.com/os:1") instanceof RegistrySource);
        assertEquals("docker://registry.example.com/os:1",
                ImageSources.open("docker://registry.example.com/os:1").reference());
        assertThrows(UserInputException.class, () -> ImageSources.open("docker://os:1"));
        assertTrue(ImageSources.open("oci:/tmp/x:1") instanceof OciLayoutSource);
        assertEquals("oci:/tmp/x:1", ImageSources.open("oci:/tmp/x:1").reference());
    }

    @Test
    void descriptorsValidateTheirDigest() {
        assertEquals("ab".repeat(32), new Descriptor("application/x", DIGEST, 1).hex());
        assertThrows(IllegalArgumentException.class, () -> new Descriptor("application/x", "sha256:AB", 1));
        assertThrows(IllegalArgumentException.class,
                () -> new Descriptor("application/x", "sha256:" + "AB".repeat(32), 1));
        assertThrows(IllegalArgumentException.class, () -> new Descriptor("application/x", "sha512:" + "ab".repeat(64), 1));
        assertThrows(IllegalArgumentException.class, () -> new Descriptor("application/x", DIGEST, -1));
        assertThrows(IllegalArgumentException.class, () -> new Descriptor("not a type\n", DIGEST, 1));
    }
}
