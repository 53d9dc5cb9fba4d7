package io.hupd.replay;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.machine.JournalReplay;
import io.hupd.machine.JournalReplay.Row;
import io.hupd.machine.MachineLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Journals recorded from real runs ({@code hupd history --json}, kept in {@code tests/replays/}) replay on the
 * current machine definition with the same trace. A change that would make an old run go elsewhere fails here.
 */
class JournalReplayTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<Path> journals() throws IOException {
        Path dir = Path.of(System.getProperty("hupd.repo", ".")).resolve("tests/replays");
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
            assertFalse(files.isEmpty(), "no recorded journals in " + dir);
            return files.stream();
        }
    }

    static List<Row> rows(Path file) throws IOException {
        List<Row> rows = new ArrayList<>();
        for (JsonNode u : JSON.readTree(file.toFile()).path("updates")) {
            for (JsonNode t : u.path("transitions")) {
                rows.add(new Row(u.path("updateId").asText(), t.path("from").asText(), t.path("event").asText(),
                        t.path("to").asText()));
            }
        }
        return rows;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("journals")
    void recordedRunReplaysTheSame(Path file) throws Exception {
        List<Row> rows = rows(file);
        assertTrue(rows.size() >= 4, file + " has too few transitions to mean anything");
        MachineLimits limits = file.getFileName().toString().contains("loop") ? new MachineLimits(1000, 12)
                : MachineLimits.DEFAULT;
        assertEquals(List.of(), JournalReplay.mismatches(rows, limits), file.toString());
    }

    @Test
    void aJournalTheDefinitionWouldNotProduceIsCaught() throws Exception {
        List<Row> rows = new ArrayList<>(rows(journals().findFirst().orElseThrow()));
        Row r = rows.get(3);
        rows.set(3, new Row(r.updateId(), r.from(), r.event(), "COMMITTED"));
        List<String> mismatches = JournalReplay.mismatches(rows, MachineLimits.DEFAULT);
        assertEquals(1, mismatches.size(), mismatches.toString());
        assertTrue(mismatches.get(0).startsWith("row 4"), mismatches.get(0));
    }
}
