package io.hupd.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.testkit.Cli;
import io.hupd.testkit.Cli.Run;
import io.hupd.testkit.TestRig;
import io.hupd.testkit.TreeSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18 finding 9: every option that has a format, given a malformed value, is a bad command line (exit 2)
 * refused with one line that names the option, before anything is done; and the other messages of the finding.
 */
class OptionFormatsTest {
    @TempDir
    Path tmp;
    TestRig rig;
    String dev;
    String image;

    @BeforeEach
    void setUp() throws Exception {
        rig = TestRig.create(tmp, "uboot");
        dev = rig.deviceDir.toString();
        image = rig.ref(TestRig.V2);
    }

    private Map<String, String> device() throws Exception {
        Map<String, String> m = new TreeMap<>();
        TreeSnapshot.of(rig.deviceDir).forEach(m::put);
        for (String img : new String[] {"rootA.img", "rootB.img"}) {
            m.put(img, TreeSnapshot.sha256(Files.readAllBytes(rig.deviceDir.resolve(img))));
        }
        return m;
    }

    /** One malformed option: exit 2, one line naming it and echoing the value, nothing on the device changed. */
    private void badOption(String option, String echoed, String... args) throws Exception {
        Map<String, String> before = device();
        Run r = Cli.hupd(args);
        String what = String.join(" ", args);
        assertEquals(Main.BAD_COMMAND_LINE, r.code(), what + ": " + r.err());
        assertEquals(1, r.err().strip().lines().count(), what + ": one line: " + r.err());
        assertTrue(r.err().startsWith("hupd: Invalid value for option '" + option + "'"), what + ": " + r.err());
        assertTrue(r.err().contains(echoed), what + ": expected '" + echoed + "' in " + r.err());
        assertEquals(before, device(), what + ": nothing on the device changed");
    }

    private String[] update(String... extra) {
        List<String> a = new ArrayList<>(List.of("update", "--device", dev, "--target-version", TestRig.V2,
                "--image", image));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    private String[] create(String... extra) {
        List<String> a = new ArrayList<>(List.of("device", "create", "--dir", tmp.resolve("new").toString(),
                "--image", image));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void updateOptions() throws Exception {
        badOption("--target-version", "'2.x' is not a version", "update", "--device", dev, "--target-version", "2.x",
                "--image", image);
        badOption("--image", "'nowhere' has no scheme", "update", "--device", dev, "--target-version", TestRig.V2,
                "--image", "nowhere");
        badOption("--delta", "has no scheme", update("--delta", "delta-without-scheme"));
        badOption("--insecure-registry", "'http://registry.local/' is not HOST or HOST:PORT",
                update("--insecure-registry", "http://registry.local/"));
        badOption("--registry-speed-limit", "0 is not positive", update("--registry-speed-limit", "0"));
        badOption("--registry-speed-limit", "'fast' is not a whole number", update("--registry-speed-limit", "fast"));
        badOption("--registry-speed-time", "-5 is not positive", update("--registry-speed-time", "-5"));
        badOption("--registry-ca", "'https://r.local' is not HOST or HOST:PORT",
                update("--registry-ca", "https://r.local=" + tmp.resolve("ca.pem")));
        badOption("--registry-ca", "a file name is empty", update("--registry-ca", "r.local:5443="));
    }

    @Test
    void deviceCreateOptions() throws Exception {
        badOption("--image", "has no scheme", "device", "create", "--dir", tmp.resolve("new").toString(), "--image",
                "x");
        badOption("--root-size", "'lots' is not a size", create("--root-size", "lots"));
        badOption("--boot-size", "'40 MB' is not a size", create("--boot-size", "40 MB"));
        badOption("--health-settle", "'5x' is not a duration", create("--health-settle", "5x"));
        badOption("--health-interval", "'1h' is not a duration", create("--health-interval", "1h"));
        badOption("--health-count", "0 is not positive", create("--health-count", "0"));
        badOption("--boot-limit", "0 is out of range", create("--boot-limit", "0"));
        badOption("--boot-limit", "'three' is not a number of boots", create("--boot-limit", "three"));
        badOption("--bootloader", "unknown bootloader 'lilo'", create("--bootloader", "lilo"));
        badOption("--vpn", "unknown VPN state 'maybe'", create("--vpn", "maybe"));
        badOption("--supervisor-version", "'fourteen' is not a version", create("--supervisor-version", "fourteen"));
        assertFalse(Files.exists(tmp.resolve("new")), "no half-made device");
    }

    @Test
    void imageAndDeltaOptions() throws Exception {
        String out = "oci:" + tmp.resolve("out") + ":t";
        String[] base = {"image", "create", "--rootfs", tmp.toString(), "--device-type", TestRig.TYPE};
        badOption("--version", "'two' is not a version", concat(base, "--version", "two", "--output", out));
        badOption("--output", "is not an OCI layout", concat(base, "--version", "2.1.0", "--output",
                "docker://registry.local/hostos:1"));
        badOption("--format", "unknown image format 'zip'", concat(base, "--version", "2.1.0", "--output", out,
                "--format", "zip"));
        badOption("--fs-size", "-1 is negative", concat(base, "--version", "2.1.0", "--output", out, "--fs-size",
                "-1"));
        badOption("--security-version", "'high' is not a whole number", concat(base, "--version", "2.1.0",
                "--output", out, "--security-version", "high"));
        badOption("--image", "is not an OCI layout", "image", "sign", "--image", "docker://r.local/x:1", "--key",
                "k", "--passphrase-file", "p");
        badOption("--from", "has no scheme", "delta", "create", "--from", "a", "--to", image, "--output", out);
        badOption("--to", "has no scheme", "delta", "create", "--from", image, "--to", "b", "--output", out);
        badOption("--output", "has no scheme", "delta", "create", "--from", image, "--to", image, "--output", "c");
        assertFalse(Files.exists(tmp.resolve("out")));
    }

    private static String[] concat(String[] a, String... b) {
        List<String> all = new ArrayList<>(List.of(a));
        all.addAll(List.of(b));
        return all.toArray(String[]::new);
    }

    @Test
    void servePortOutOfRangeIsABadCommandLine() throws Exception {
        badOption("--port", "99999 is not a port", "serve", "--device", dev, "--port", "99999");
        badOption("--port", "-1 is not a port", "serve", "--device", dev, "--port", "-1");
    }

    @Test
    void aNonAsciiVersionIsEchoedAsTyped() throws Exception {
        badOption("--target-version", "'2.119.é' is not a version", "update", "--device", dev, "--target-version",
                "2.119.é", "--image", image);
        // what cannot be shown on one line still is not
        badOption("--target-version", "'2.119.0?[31m' is not a version", "update", "--device", dev,
                "--target-version", "2.119.0\u001b[31m", "--image", image);
    }

    @Test
    void aZeroHealthCheckTimeoutInDeviceJsonIsOneLineNamingTheField() throws Exception {
        Path json = rig.deviceDir.resolve("device.json");
        Files.writeString(json, Files.readString(json).replaceFirst("\"healthCheckTimeout\"\\s*:\\s*\"[^\"]*\"",
                "\"healthCheckTimeout\":\"0s\""));
        assertTrue(Files.readString(json).contains("\"healthCheckTimeout\":\"0s\""));
        Run r = Cli.hupd("status", "--device", dev);
        assertEquals(Main.FAILED, r.code(), r.err());
        assertEquals("hupd: device.json: healthCheckTimeout must be longer than 0s (it bounds each health check),"
                + " not '0s'", r.err().strip());
    }

    @Test
    void aDiagramThatCannotBeWrittenSaysWhereAndWhy() {
        Run r = Cli.hupd("diagram", "--output", "/proc/nope/x");
        assertEquals(Main.FAILED, r.code(), r.err());
        assertEquals("hupd: cannot write the diagram to /proc/nope/x: /proc/nope: no such file or folder",
                r.err().strip());
    }

    @Test
    void aSourceIsNamedOnceInItsError() throws Exception {
        Files.writeString(tmp.resolve("images/index.json"), "<html>Welcome to nginx!</html>");
        Run r = Cli.hupd("update", "--device", dev, "--target-version", TestRig.V2, "--image", image);
        assertEquals(Main.FAILED, r.code(), r.err());
        String last = r.err().strip().lines().reduce((a, b) -> b).orElseThrow();
        assertEquals(1, last.split(java.util.regex.Pattern.quote(image + ":"), -1).length - 1, last);
        assertTrue(last.contains("index.json is not valid JSON (at line 1, column 1): it looks like an HTML or XML"
                + " page"), last);
        assertFalse(last.contains("Welcome") || last.contains("html>"), "no raw bytes: " + last);
    }
}
