package io.hupd.adapters.sim;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GrubFirmwareTest {
    @Test
    void grubTestSemantics() {
        assertTrue(GrubFirmware.grubEquals("1", "1"));
        assertFalse(GrubFirmware.grubEquals("2", "1"));
        assertTrue(GrubFirmware.grubEquals(" 1\t", "1"), "split into words");
        assertFalse(GrubFirmware.grubEquals(null, "2"), "unset: [ x = x2 ] is false");
        assertTrue(GrubFirmware.grubEquals(null, ""));
        assertTrue(GrubFirmware.grubEquals(" ", ""));
        assertFalse(GrubFirmware.grubEquals("", "2"));
        assertFalse(GrubFirmware.grubEquals("1 2", "1"));
    }
}
