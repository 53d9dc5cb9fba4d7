package io.hupd.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.testkit.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DaemonSettingsTest {
    @TempDir
    Path tmp;

    private Cli.Run daemonWith(String settings) throws Exception {
        Path f = tmp.resolve("hupd.json");
        Files.writeString(f, settings);
        return Cli.hupd("daemon", "--config", f.toString(), "--device", tmp.resolve("no-device").toString());
    }

    @Test
    void theShippedExampleReadsAsTheDefaults() {
        DaemonSettings s = DaemonSettings.load(Path.of("packaging/examples/hupd.json"));
        assertEquals(DaemonSettings.DEFAULTS, s);
    }

    @Test
    void commentsAndEveryFieldAreRead() throws Exception {
        Path f = tmp.resolve("hupd.json");
        Files.writeString(f, "/* x */ {\"socket\": \"/run/x/api.sock\", // y\n \"statusPort\": null,"
                + " \"deviceConfig\": \"/srv/dev.json\"}");
        assertEquals(new DaemonSettings(Path.of("/run/x/api.sock"), null, Path.of("/srv/dev.json")),
                DaemonSettings.load(f));
    }

    @Test
    void badSettingsGetOneLineAndExit1() throws Exception {
        String[][] cases = {
            {"{\"sockett\": \"/run/a\"}", "unknown setting 'sockett'"},
            {"{\"socket\": \"run/a\"}", "socket must be an absolute path"},
            {"{\"statusPort\": 70000}", "statusPort must be a port number"},
            {"{\"statusPort\": \"80\"}", "statusPort must be a port number"},
            {"[1, 2]", "expected a JSON object"},
            {"{\"socket\": ", "not valid JSON"},
        };
        for (String[] c : cases) {
            Cli.Run r = daemonWith(c[0]);
            assertEquals(1, r.code(), c[0] + ": " + r.err());
            assertTrue(r.err().startsWith("hupd: ") && r.err().contains(c[1]) && r.err().strip().lines().count() == 1,
                    c[0] + ": " + r.err());
        }
        Cli.Run missing = Cli.hupd("daemon", "--config", tmp.resolve("none.json").toString(), "--device", "x");
        assertEquals(1, missing.code());
        assertTrue(missing.err().startsWith("hupd: ") && missing.err().contains("no such settings file"));
    }
}
