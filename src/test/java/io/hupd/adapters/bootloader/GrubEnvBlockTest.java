package io.hupd.adapters.bootloader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import io.hupd.ports.BootSettingsException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GrubEnvBlockTest {
    private static byte[] block(String body) {
        byte[] b = new byte[GrubEnvBlock.SIZE];
        Arrays.fill(b, (byte) '#');
        byte[] text = ("# GRUB Environment Block\n" + body).getBytes(StandardCharsets.UTF_8);
        System.arraycopy(text, 0, b, 0, text.length);
        return b;
    }

    private static String ascii(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    @Test
    void serializesToExactly1024BytesWithHeaderAndPadding() throws BootSettingsException {
        byte[] b = GrubEnvBlock.serialize(Map.of("bootcount", "0"));
        assertEquals(1024, b.length);
        String s = ascii(b);
        assertTrue(s.startsWith("# GRUB Environment Block\n# WARNING"), s);
        assertTrue(s.contains("\nbootcount=0\n#"), s);
        assertTrue(s.endsWith("####"), s);
    }

    @Test
    void roundTripsOrderEscapesAndUnknownVariables() throws BootSettingsException {
        LinkedHashMap<String, String> vars = new LinkedHashMap<>();
        vars.put("zz_first", "kept in order");
        vars.put("resin_root_part", "3");
        vars.put("multi", "line1\nline2");
        vars.put("path", "C:\\boot\\new\\");
        vars.put("unicode", "grüße");
        vars.put("empty", "");
        byte[] b = GrubEnvBlock.serialize(vars);
        assertTrue(ascii(b).contains("multi=line1\\\nline2\n"), "newline escaped as grub-editenv does");
        assertTrue(ascii(b).contains("path=C:\\\\boot\\\\new\\\\\n"), "backslash escaped");
        LinkedHashMap<String, String> back = GrubEnvBlock.parse(b);
        assertEquals(vars, back);
        assertEquals(List.copyOf(vars.keySet()), List.copyOf(back.keySet()));
    }

    @Test
    void contentThatDoesNotFitIsRefused() {
        BootSettingsException e = assertThrows(BootSettingsException.class,
                () -> GrubEnvBlock.serialize(Map.of("big", "x".repeat(1000))));
        assertTrue(e.getMessage().contains("too small"), e.getMessage());
        assertTrue(e.getMessage().contains("1024"), e.getMessage());
    }

    @Test
    void exactlyFullBlockIsAccepted() throws BootSettingsException {
        int overhead = GrubEnvBlock.HEADER.length() + GrubEnvBlock.WARNING.length() + "v=\n".length();
        Map<String, String> vars = Map.of("v", "x".repeat(1024 - overhead));
        byte[] b = GrubEnvBlock.serialize(vars);
        assertEquals('\n', b[1023]);
        assertEquals(vars, GrubEnvBlock.parse(b));
        assertThrows(BootSettingsException.class,
                () -> GrubEnvBlock.serialize(Map.of("v", "x".repeat(1025 - overhead))));
    }

    @Test
    void namesGrubCannotStoreAreRefused() {
        for (String name : new String[] {"", "#x", "a=b", "a\nb", "a\\b"}) {
            assertThrows(BootSettingsException.class, () -> GrubEnvBlock.serialize(Map.of(name, "1")), name);
        }
        assertThrows(BootSettingsException.class, () -> GrubEnvBlock.serialize(Map.of("a", "x\0y")));
    }

    @Test
    void commentLinesAreSkippedLikeGrubDoes() throws BootSettingsException {
        assertEquals(Map.of("a", "1", "b", "2"), GrubEnvBlock.parse(block("a=1\n# note \\\nstill comment\nb=2\n")));
    }

    @Test
    void badBlocksAreRefusedWithTheReason() {
        Map<String, byte[]> cases = new LinkedHashMap<>();
        cases.put("is 1023 bytes", Arrays.copyOf(block("a=1\n"), 1023));
        cases.put("is 1025 bytes", Arrays.copyOf(block("a=1\n"), 1025));
        cases.put("header", block("a=1\n").clone());
        cases.get("header")[2] = 'g';
        cases.put("has no '='", block("a=1\njunk\n"));
        cases.put("empty variable name", block("=1\n"));
        cases.put("duplicate variable a", block("a=1\na=2\n"));
        cases.put("not valid UTF-8", block("a=\u00ff\n"));
        byte[] nul = block("a=1\nb=2\n");
        nul[27] = 0;
        cases.put("NUL", nul);
        // an escaped last newline makes the value run on through the padding to the end of the block
        cases.put("not ended by a newline", block("a=1\nv=abc\\\n"));
        byte[] tail = block("a=1\n");
        tail[1023] = 'x';
        cases.put("padding", tail);
        for (Map.Entry<String, byte[]> c : cases.entrySet()) {
            byte[] b = c.getValue();
            if (c.getKey().equals("not valid UTF-8")) {
                b[27] = (byte) 0xff;
            }
            BootSettingsException e = assertThrows(BootSettingsException.class, () -> GrubEnvBlock.parse(b),
                    c.getKey());
            assertTrue(e.getMessage().contains(c.getKey()), c.getKey() + " -> " + e.getMessage());
        }
    }

    // --- GRUB's save_env and load_env ---

    @Test
    void setInPlaceReplacesShorterLongerAndAppendsWithoutChangingSize() throws BootSettingsException {
        byte[] b = GrubEnvBlock.serialize(new LinkedHashMap<>(Map.of("bootcount", "0")));
        assertTrue(GrubEnvBlock.setInPlace(b, "bootcount", "1"));
        assertEquals(Map.of("bootcount", "1"), GrubEnvBlock.parse(b));
        assertTrue(GrubEnvBlock.setInPlace(b, "bootcount", "12345"));
        assertTrue(GrubEnvBlock.setInPlace(b, "other", "a\nb"));
        assertTrue(GrubEnvBlock.setInPlace(b, "bootcount", "2"));
        assertEquals(1024, b.length);
        LinkedHashMap<String, String> vars = GrubEnvBlock.parse(b);
        assertEquals(Map.of("bootcount", "2", "other", "a\nb"), vars);
        assertEquals(List.of("bootcount", "other"), List.copyOf(vars.keySet()));
    }

    @Test
    void setInPlaceFailsLikeGrubWhenThereIsNoRoomAndLeavesTheBlockAlone() throws BootSettingsException {
        int overhead = GrubEnvBlock.HEADER.length() + GrubEnvBlock.WARNING.length() + "v=\n".length();
        byte[] full = GrubEnvBlock.serialize(Map.of("v", "x".repeat(1024 - overhead)));
        byte[] copy = full.clone();
        assertFalse(GrubEnvBlock.setInPlace(full, "bootcount", "1"));
        assertArrayEquals(copy, full);
        assertTrue(GrubEnvBlock.setInPlace(full, "v", "y".repeat(1024 - overhead)), "same length fits");
    }

    @Test
    void loadLenientStopsAtTheFirstBrokenEntryAndTakesTheLastDuplicate() {
        assertEquals(Map.of("a", "2", "b", "3"), GrubEnvBlock.loadLenient(block("a=1\nb=3\na=2\n")));
        assertEquals(Map.of("a", "1"), GrubEnvBlock.loadLenient(block("a=1\njunk without equals")));
        assertNull(GrubEnvBlock.loadLenient("not a block".getBytes(StandardCharsets.US_ASCII)));
    }
}
