package io.hupd.ports;

/**
 * Input that hupd refuses: a bad option, a malformed version, an image for another device, a hostile archive.
 * The message is one line that names the problem (and, where there is one, what to do).
 */
public class UserInputException extends RuntimeException {
    public UserInputException(String message) {
        super(message);
    }

    public UserInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
