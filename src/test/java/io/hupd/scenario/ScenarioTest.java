package io.hupd.scenario;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.hupd.machine.MachineLimits;
import io.hupd.machine.UpdateState;
import io.hupd.ports.BootSettings;
import io.hupd.runner.UpdateRequest;
import io.hupd.testkit.Faults;
import io.hupd.testkit.TestRig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Runs every scenario file in {@code tests/scenarios/} (the format is in that folder's README). */
class ScenarioTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static Stream<Path> scenarios() throws IOException {
        Path dir = Path.of(System.getProperty("hupd.repo", ".")).resolve("tests/scenarios");
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
            assertFalse(files.isEmpty(), "no scenario files in " + dir);
            return files.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void scenario(Path file) throws Exception {
        JsonNode sc = JSON.readTree(file.toFile());
        TestRig rig = TestRig.create(tmp, sc.path("bootloader").asText("uboot"));
        JsonNode limits = sc.path("limits");
        rig.limits = new MachineLimits(limits.path("attempts").asInt(3), limits.path("loopCeiling").asInt(30));
        List<UnaryOperator<io.hupd.runner.StepRegistry>> faults = new ArrayList<>();
        int i = 0;
        for (JsonNode a : sc.path("actions")) {
            i++;
            String what = file.getFileName() + " action " + i + " (" + a.path("do").asText() + ")";
            String expect = a.path("expect").asText(null);
            switch (a.path("do").asText()) {
                case "fault" -> {
                    faults.add(Faults.at(UpdateState.valueOf(a.path("state").asText()),
                            Faults.Kind.valueOf(a.path("kind").asText()), a.path("times").asInt(1)));
                    rig.steps = r -> {
                        for (var f : faults) {
                            r = f.apply(r);
                        }
                        return r;
                    };
                }
                case "clearFaults" -> {
                    faults.clear();
                    rig.steps = UnaryOperator.identity();
                }
                case "damageDatabase" -> damage(rig, a.path("how").asText());
                default -> outcome(what, expect, () -> act(rig, a));
            }
        }
        check(file, sc.path("expect"), rig);
        // The run's journal, as `hupd history --json` prints it: material for tests/replays.
        Path journals = Path.of(System.getProperty("hupd.repo", ".")).resolve("target/scenario-journals");
        Files.createDirectories(journals);
        Files.writeString(journals.resolve(file.getFileName()), JSON.writerWithDefaultPrettyPrinter()
                .writeValueAsString(io.hupd.web.Timeline.of(rig.journal(), java.time.Instant.now())));
    }

    interface Action {
        String run() throws Exception;
    }

    private static String act(TestRig rig, JsonNode a) throws Exception {
        return switch (a.path("do").asText()) {
            case "update" -> rig.service(rig.ports()).update(new UpdateRequest(a.path("version").asText(),
                    List.of(rig.ref(a.path("version").asText())), null, a.path("requireUpgrade").asBoolean(true),
                    true)).name();
            case "powerOn" -> String.valueOf(rig.powerOn());
            case "powerOnUntilSettled" -> "settled after " + rig.powerOnUntilSettled();
            case "cleanReboot" -> {
                rig.sim.shutdownCleanly("scenario");
                yield String.valueOf(rig.powerOn());
            }
            case "abort" -> rig.service(rig.ports()).abort().name();
            default -> throw new IllegalArgumentException("unknown action " + a.path("do").asText());
        };
    }

    private static void outcome(String what, String expect, Action action) throws Exception {
        String got;
        try {
            got = action.run();
        } catch (Faults.SimulatedCrash e) {
            got = "crash";
        } catch (IOException e) {
            got = "error";
        }
        if (expect != null) {
            assertEquals(expect, got, what);
        } else {
            assertFalse(got.equals("crash") || got.equals("error"), what + " ended with " + got);
        }
    }

    private static void damage(TestRig rig, String how) throws IOException {
        Path db = rig.sim.dataDir().resolve("hupd/state.mv.db");
        switch (how) {
            case "delete" -> Files.delete(db);
            case "truncate" -> Files.write(db, java.util.Arrays.copyOf(Files.readAllBytes(db), (int) Files.size(db) / 3));
            case "garbage" -> Files.write(db, "this is not a database".getBytes());
            default -> throw new IllegalArgumentException("unknown damage " + how);
        }
    }

    private static void check(Path file, JsonNode expect, TestRig rig) throws Exception {
        String name = file.getFileName().toString();
        if (expect.has("state")) {
            assertEquals(expect.get("state").asText(), rig.state(), name + ": state; trace " + rig.trace());
        }
        if (expect.has("running")) {
            assertEquals(expect.get("running").asText(), rig.runningVersion(), name + ": running version");
        }
        if (expect.has("trace")) {
            List<String> want = new ArrayList<>();
            expect.get("trace").forEach(n -> want.add(n.asText()));
            assertEquals(want, rig.trace(), name + ": trace");
        }
        for (JsonNode t : expect.path("traceContains")) {
            assertTrue(rig.trace().contains(t.asText()), name + ": trace lacks " + t.asText() + ": " + rig.trace());
        }
        if (expect.has("reasonContains")) {
            String reason = rig.store().load().orElseThrow().context().reason();
            assertNotNull(reason, name + ": no reason kept");
            assertTrue(reason.contains(expect.get("reasonContains").asText()), name + ": reason " + reason);
        }
        if (expect.has("markers")) {
            List<String> want = new ArrayList<>();
            expect.get("markers").forEach(n -> want.add(n.asText()));
            assertEquals(want, rig.sim.state().markers(), name + ": markers");
        }
        BootSettings s = rig.sim.bootloader().read();
        if (expect.has("bootSettings")) {
            JsonNode b = expect.get("bootSettings");
            assertEquals(new BootSettings(b.path("rootPart").asInt(), b.path("upgradeAvailable").asBoolean(),
                    b.path("bootcount").asInt()), s, name + ": boot settings");
        }
        // What holds whatever happened.
        assertEquals(rig.ports().slots().partitionOf(rig.sim.bootedSlot()), s.rootPart(), name + ": settings name the running root");
        assertFalse(s.upgradeAvailable(), name + ": no trial left armed");
        assertEquals(List.of(), rig.sim.state().breadcrumbs(), name + ": breadcrumbs left");
        assertTrue(rig.ports().supervisor().isRunning(), name + ": supervisor running");
        assertEquals("user data\n", Files.readString(rig.deviceDir.resolve("data/user/notes.txt")), name + ": user data");
    }
}
