package io.hupd.web;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.hupd.cli.Main;
import io.hupd.testkit.TestRig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page in a real headless Chromium: it lights the state an update is in, live, while the update runs
 * in another process than the server; the screenshots stay in target/screenshots/ as build artifacts.
 */
class StatusPageBrowserTest {
    @TempDir
    Path tmp;

    static ChromeDriver.Tools tools() {
        Optional<ChromeDriver.Tools> t = ChromeDriver.find();
        if (t.isEmpty()) {
            // In CI a missing browser is a broken setup, not a reason to skip (.ci/run installs it).
            assertNull(System.getenv("CI"), "chromium and chromedriver are required in CI: apt-get install chromium"
                    + " chromium-driver");
            Assumptions.abort("chromium or chromedriver not installed (apt-get install chromium chromium-driver)");
        }
        return t.get();
    }

    static Path artifacts() throws Exception {
        // <build dir>/test-classes -> <build dir>/screenshots, whatever -Dhupd.buildDir says.
        Path testClasses = Path.of(StatusPageBrowserTest.class.getProtectionDomain().getCodeSource().getLocation()
                .toURI());
        return testClasses.getParent().resolve("screenshots");
    }

    private static String state(ChromeDriver b) throws Exception {
        return b.eval("return document.body.dataset.state").asText();
    }

    private static void waitFor(ChromeDriver b, String what, String condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!b.eval("return !!(" + condition + ")").asBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("the page never showed " + what + "; it shows " + state(b) + "; its last snapshot: "
                        + b.eval("return JSON.stringify(window.hupd.last)").asText());
            }
            Thread.sleep(50);
        }
    }

    private static String lit(String state) {
        return "document.body.dataset.state === '" + state + "' && document.querySelector('#s-" + state
                + ".current') !== null";
    }

    @Test
    void pageLightsTheStateOfAnUpdateLiveAndRefusesRequestsWithoutTheToken() throws Exception {
        ChromeDriver.Tools tools = tools();
        TestRig rig = TestRig.create(tmp, "uboot");
        try (ServeProcess serve = ServeProcess.start(rig.deviceDir);
                ChromeDriver browser = new ChromeDriver(tools, tmp.resolve("chromium-profile"))) {
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> refused = http.send(HttpRequest.newBuilder(URI.create(serve.base + "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(401, refused.statusCode(), "a request without the token");

            java.nio.file.Files.deleteIfExists(artifacts().resolve("status-page-writing.png"));
            browser.open(serve.url);
            waitFor(browser, "IDLE lit", lit("IDLE"));
            String loadId = browser.eval("return window.hupd.loadId").asText();

            CompletableFuture<Integer> update = CompletableFuture.supplyAsync(() -> Main.run("update", "--device",
                    rig.deviceDir.toString(), "--target-version", TestRig.V2, "--image", rig.ref(TestRig.V2)));
            boolean midShot = false;
            while (!update.isDone()) {
                String s = state(browser);
                if (!midShot && s.equals("WRITING_ROOTFS")) {
                    browser.screenshot(artifacts().resolve("status-page-writing.png"));
                    midShot = true;
                }
                Thread.sleep(40);
            }
            assertEquals(Main.OK, update.get());
            waitFor(browser, "REBOOTING lit", lit("REBOOTING"));
            browser.screenshot(artifacts().resolve("status-page-rebooting.png"));

            rig.powerOnUntilSettled();
            waitFor(browser, "COMMITTED lit", lit("COMMITTED"));
            waitFor(browser, "the result", "document.getElementById('result').textContent === 'COMMITTED'");
            browser.screenshot(artifacts().resolve("status-page.png"));

            assertEquals(loadId, browser.eval("return window.hupd.loadId").asText(), "the page was never reloaded");
            List<String> seen = new ArrayList<>();
            browser.eval("return window.hupd.seen").forEach(n -> seen.add(n.asText()));
            assertEquals("IDLE", seen.get(0), seen.toString());
            assertEquals("COMMITTED", seen.get(seen.size() - 1), seen.toString());
            assertTrue(seen.indexOf("REBOOTING") > 0, seen.toString());
            assertTrue(seen.stream().anyMatch(s -> List.of("LOCKED", "PREFLIGHT", "STOPPING_SUPERVISOR", "FETCHING",
                    "WRITING_ROOTFS", "UPDATING_BOOT_FILES", "UPDATING_SUPERVISOR", "ARMING_ROLLBACKS",
                    "SWITCHING_BOOT").contains(s)), "a state on the way to the commit point was lit: " + seen);

            // This update's way is drawn over the diagram: all 14 transitions, and only arrows that exist.
            assertEquals(14, browser.eval("return document.querySelectorAll('.edge.taken').length").asInt());
            assertTrue(browser.eval("return document.querySelector('#e-COMMITTING--COMMITTED.taken') !== null")
                    .asBoolean());
            assertEquals(14, browser.eval("return document.querySelectorAll('#history tbody tr').length").asInt());

            // Nothing came from anywhere but hupd itself.
            JsonNode resources = browser.eval("return performance.getEntriesByType('resource').map(e => e.name)");
            assertTrue(resources.size() >= 3, resources.toString());
            resources.forEach(r -> assertTrue(r.asText().startsWith(serve.base + "/"), r.asText()));

            // The browser, too, is turned away without the token.
            browser.open(serve.base + "/");
            assertTrue(browser.eval("return document.body.innerText").asText().contains("needs its token"));
        }
    }
}
