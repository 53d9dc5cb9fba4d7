package io.hupd.image.registry;

import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Runs a request again while it fails in a way that may pass (a network error, a 5xx, a 429), a bounded number of
 * times, with a doubling, jittered backoff; a 429's Retry-After takes the backoff's place, under the same ceiling.
 * A failure that cannot pass is given at once, so a 404 or a refused login costs no waiting.
 */
final class Retries {
    private final RegistryOptions options;

    @FunctionalInterface
    interface Attempt<T> {
        T run() throws IOException, InterruptedException;
    }

    Retries(RegistryOptions options) {
        this.options = options;
    }

    <T> T retrying(String what, Attempt<T> attempt) throws IOException {
        long backoff = options.backoffBase().toMillis();
        for (int i = 1; ; i++) {
            try {
                return attempt.run();
            } catch (RegistryException e) {
                if (!e.retryable() || i >= options.maxAttempts()) {
                    throw i > 1 && e.retryable()
                            ? new RegistryException(e.getMessage() + " (after " + i + " tries)", false, e) : e;
                }
                long wait = retryAfter(e).orElse(backoff);
                sleep(Math.min(wait, options.backoffMax().toMillis()));
                backoff = Math.min(backoff * 2, options.backoffMax().toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RegistryException(what + ": interrupted", false, e);
            }
        }
    }

    private static Optional<Long> retryAfter(RegistryException e) {
        return e instanceof StatusErrors.TooManyRequests t ? Optional.of(t.retryAfterMillis) : Optional.empty();
    }

    private static void sleep(long millis) throws RegistryException {
        try {
            Thread.sleep(millis + ThreadLocalRandom.current().nextLong(Math.max(1, millis / 4)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("interrupted while waiting to retry", false, e);
        }
    }
}
