package io.hupd.ports;

import java.io.IOException;

/** Bootloader settings that do not parse, or a write whose read-back differs. */
public class BootSettingsException extends IOException {
    public BootSettingsException(String message) {
        super(message);
    }
}
