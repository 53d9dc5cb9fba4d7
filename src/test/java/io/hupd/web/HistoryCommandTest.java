package io.hupd.web;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.testkit.Cli;
import io.hupd.testkit.TestRig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hupd history}: one block per update, as text and as JSON. */
class HistoryCommandTest {
    @TempDir
    Path tmp;

    @Test
    void timelineOfACommitAndARollback() throws Exception {
        TestRig rig = TestRig.create(tmp, "uboot");
        String dev = rig.deviceDir.toString();
        assertEquals("no update has run on this device\n", Cli.ok("history", "--device", dev));
        rig.update(TestRig.V2);
        rig.powerOnUntilSettled();
        rig.update(TestRig.BROKEN);
        rig.powerOnUntilSettled();

        String text = Cli.ok("history", "--device", dev);
        List<String> headers = text.lines().filter(l -> l.startsWith("update ")).toList();
        assertEquals(2, headers.size(), text);
        assertTrue(headers.get(0).endsWith("COMMITTED after " + headers.get(0).replaceAll(".* after ", "")), text);
        assertTrue(headers.get(1).contains(": ROLLED_BACK_HEALTH after "), text);
        assertTrue(text.contains("  reason: health check failed: engine"), text);
        assertTrue(text.lines().anyMatch(l -> l.matches("  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} +\\S+ +"
                + "UNHEALTHY +HEALTH_CHECKING -> ROLLING_BACK_HEALTH +health check failed.*")), text);
        assertTrue(text.lines().anyMatch(l -> l.matches(".* +- +SUCCEEDED +COMMITTING -> COMMITTED")), text);
        assertTrue(text.lines().noneMatch(l -> l.endsWith(" ")), "no trailing blanks");

        JsonNode json = new ObjectMapper().readTree(Cli.ok("history", "--device", dev, "--json"));
        assertEquals(2, json.path("updates").size());
        JsonNode first = json.path("updates").get(0);
        assertEquals("COMMITTED", first.path("result").asText());
        assertEquals(14, first.path("transitions").size());
        assertTrue(first.path("transitions").get(0).path("msInState").isNumber());
        assertTrue(first.path("transitions").get(13).path("msInState").isNull());

        String id = first.path("updateId").asText();
        JsonNode one = new ObjectMapper().readTree(Cli.ok("history", "--device", dev, "--json", "--update", id));
        assertEquals(1, one.path("updates").size());
        assertEquals(id, one.path("updates").get(0).path("updateId").asText());
    }
}
