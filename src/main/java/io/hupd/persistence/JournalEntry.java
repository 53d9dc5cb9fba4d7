package io.hupd.persistence;

import java.time.Instant;

/** One persisted transition. */
public record JournalEntry(long seq, String updateId, Instant at, String from, String event, String to,
        String toPhase, String reason) {}
