package io.hupd.persistence;

import static org.junit.jupiter.api.Assertions.*;

import io.hupd.machine.UpdateContext;
import java.io.InputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A context as the hupd before this change wrote it (every field set, plus one a newer hupd might add) still
 * reads, field by field: an old database resumes where it was.
 */
class ContextCompatibilityTest {
    @Test
    void aContextWrittenByTheEarlierHupdReadsFieldByField() throws Exception {
        UpdateContext c;
        try (InputStream in = getClass().getResourceAsStream(
                "/io/hupd/machine/context-as-written-before-the-guards.json")) {
            assertNotNull(in, "the recorded context is missing from the test resources");
            c = StateStore.JSON.readValue(in, UpdateContext.class);
        }
        assertEquals("20261207T091500Z-1a2b", c.updateId());
        assertEquals("2026-12-07T09:15:00Z", c.startedAt());
        assertEquals("2.115.1", c.targetVersion());
        assertEquals(List.of("localhost:5000/hostos:2.115.1"), c.images());
        assertNull(c.delta());
        assertTrue(c.requireUpgrade());
        assertFalse(c.reboot());
        assertEquals(List.of("localhost:5000"), c.registries().insecure());
        assertEquals("/mnt/data/creds.json", c.registries().credentialsFile());
        assertEquals(1024L, c.registries().lowSpeedBytes());
        assertEquals(30, c.registries().lowSpeedSeconds());
        assertEquals("2.114.0", c.fromVersion());
        assertEquals("A", c.activeSlot());
        assertEquals("B", c.spareSlot());
        assertEquals("14.11.2", c.supervisorVersionBefore());
        assertTrue(c.vpnWasOnline());
        assertEquals(2, c.attempts());
        assertEquals(17, c.transitions());
        assertEquals("registry", c.source());
        assertEquals("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", c.manifestDigest());
        assertEquals(7L, c.securityVersion());
        assertEquals(123456789L, c.bytesFetched());
        assertEquals(0, c.chunksWritten());
        assertEquals(List.of("oci-layout: not found"), c.sourceFailures());
        assertTrue(c.supervisorUpdated());
        assertEquals(3, c.healthTries());
        assertEquals("health check failed: engine", c.reason());
        assertEquals("engine", c.failedCheck());
        assertEquals("balena-engine: not running", c.failedCheckOutput());
    }

    @Test
    void whatThisHupdWritesHasTheSameFieldNames() throws Exception {
        UpdateContext c = UpdateContext.builder()
                .updateId("u1")
                .build();
        var written = StateStore.JSON.readTree(StateStore.JSON.writeValueAsString(c));
        var recorded = StateStore.JSON.readTree(getClass().getResourceAsStream(
                "/io/hupd/machine/context-as-written-before-the-guards.json"));
        List<String> names = new java.util.ArrayList<>();
        written.fieldNames().forEachRemaining(names::add);
        List<String> before = new java.util.ArrayList<>();
        recorded.fieldNames().forEachRemaining(before::add);
        before.remove("aFieldFromANewerHupd");
        assertEquals(before, names, "field names (and their order) are an on-disk contract");
    }
}
