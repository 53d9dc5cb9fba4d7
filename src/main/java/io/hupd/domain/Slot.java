package io.hupd.domain;

import java.util.Optional;

/**
 * One of the two root partitions. Stored everywhere (the update context, the database, the files on the device)
 * by its name, "A" or "B", so {@link #name()} and {@link #of} are the whole stored format.
 */
public enum Slot {
    A,
    B;

    /** The slot an update writes when this one runs, and the one a rollback returns to. */
    public Slot other() {
        return this == A ? B : A;
    }

    /** The slot of a stored name; throws IllegalArgumentException for anything but "A" or "B". */
    public static Slot of(String name) {
        return named(name).orElseThrow(() -> new IllegalArgumentException("no slot " + name));
    }

    /** The slot of a name read from outside (a file on the device), empty when it names none. */
    public static Optional<Slot> named(String name) {
        if ("A".equals(name)) {
            return Optional.of(A);
        }
        if ("B".equals(name)) {
            return Optional.of(B);
        }
        return Optional.empty();
    }
}
