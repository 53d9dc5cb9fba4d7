package io.hupd.ports;

/** Turns a reference ({@code oci:PATH:TAG}, {@code docker://…}) into a source; bad references throw UserInputException. */
public interface ImageSourceFactory {
    ImageSource open(String reference);
}
