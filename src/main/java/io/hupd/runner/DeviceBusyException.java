package io.hupd.runner;

/** Another hupd process holds the device's lock (exit code 9). */
public class DeviceBusyException extends RuntimeException {
    public DeviceBusyException(String message) {
        super(message);
    }
}
