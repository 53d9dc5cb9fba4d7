package io.hupd.ports;

/**
 * Thrown from {@link Progress#advance} when the operator asked for an abort while a long piece of work runs (a
 * download): the work stops where it is, and the update reverts instead of finishing the step first. Unchecked,
 * so that it passes through the code in between; whoever catches every exception to try another source must let
 * it through.
 */
public final class AbortRequested extends RuntimeException {
    public AbortRequested(String message) {
        super(message);
    }
}
