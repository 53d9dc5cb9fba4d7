package io.hupd.machine;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonPOJOBuilder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Everything an update needs to resume after a crash, stored as JSON next to the state. Fields are only ever
 * added (an older hupd ignores the ones it does not know, so it can read what a newer one wrote).
 *
 * <p>Immutable (its lists too): a step describes what it changes as a {@link ContextChange}, written on a
 * {@link Builder} holding the current values, and only the machine and the runner apply one
 * ({@link ContextChange#applyTo}), the runner persisting the result with the transition. The JSON is written
 * from the components, in their order here (an on-disk contract), and read through the builder, whose defaults
 * stand for what an older hupd did not write.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonDeserialize(builder = UpdateContext.Builder.class)
public record UpdateContext(
        String updateId,
        String startedAt,
        // What the operator asked for.
        String targetVersion,
        List<String> images,
        String delta,
        boolean requireUpgrade,
        boolean reboot,
        /*
         * How images are fetched, as {@code hupd update} was told when the update began; null until recorded (by
         * its first step), or in a context written by an older hupd. A run without that command line (a power-on)
         * uses it, so a resumed fetch reaches registries the same way.
         */
        Registries registries,
        // The device when the update began.
        String fromVersion,
        String activeSlot,
        String spareSlot,
        String supervisorVersionBefore,
        boolean vpnWasOnline,
        // Progress.
        int attempts,
        int transitions,
        String source,
        String manifestDigest,
        /* The fetched image's anti-rollback security version (0 when it has none); the floor rises to it at commit. */
        Long securityVersion,
        long bytesFetched,
        /* A filesystem-image install: the chunks written to the spare slot and flushed (0 for a tar-layer image). */
        int chunksWritten,
        List<String> sourceFailures,
        boolean supervisorUpdated,
        int healthTries,
        // Why it ended the way it did (anything but a commit).
        String reason,
        String failedCheck,
        String failedCheckOutput) {
    /** Bumped when a field's meaning changes (never for additions). */
    public static final int FORMAT_VERSION = 1;

    public UpdateContext {
        images = unmodifiable(images);
        sourceFailures = unmodifiable(sourceFailures);
    }

    /** A context with every field at its default (what a new update starts from before its request is set). */
    public static UpdateContext empty() {
        return new Builder().build();
    }

    /** A builder for a new context; the runner (and tests) start an update's context with it. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this context's values: what {@link ContextChange#applyTo} writes a change on. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.updateId = updateId;
        b.startedAt = startedAt;
        b.targetVersion = targetVersion;
        b.images = images;
        b.delta = delta;
        b.requireUpgrade = requireUpgrade;
        b.reboot = reboot;
        b.registries = registries;
        b.fromVersion = fromVersion;
        b.activeSlot = activeSlot;
        b.spareSlot = spareSlot;
        b.supervisorVersionBefore = supervisorVersionBefore;
        b.vpnWasOnline = vpnWasOnline;
        b.attempts = attempts;
        b.transitions = transitions;
        b.source = source;
        b.manifestDigest = manifestDigest;
        b.securityVersion = securityVersion;
        b.bytesFetched = bytesFetched;
        b.chunksWritten = chunksWritten;
        b.sourceFailures = sourceFailures;
        b.supervisorUpdated = supervisorUpdated;
        b.healthTries = healthTries;
        b.reason = reason;
        b.failedCheck = failedCheck;
        b.failedCheckOutput = failedCheckOutput;
        return b;
    }

    private static List<String> unmodifiable(List<String> list) {
        return list == null ? null : Collections.unmodifiableList(new ArrayList<>(list));
    }

    /** The values of a context being made; what a {@link ContextChange} writes on. Jackson reads through it too. */
    @JsonPOJOBuilder(withPrefix = "")
    @JsonIgnoreProperties(ignoreUnknown = true)
    public static final class Builder {
        private String updateId;
        private String startedAt;
        private String targetVersion;
        private List<String> images = new ArrayList<>();
        private String delta;
        private boolean requireUpgrade = true;
        private boolean reboot = true;
        private Registries registries;
        private String fromVersion;
        private String activeSlot;
        private String spareSlot;
        private String supervisorVersionBefore;
        private boolean vpnWasOnline;
        private int attempts = 1;
        private int transitions;
        private String source;
        private String manifestDigest;
        private Long securityVersion;
        private long bytesFetched;
        private int chunksWritten;
        private List<String> sourceFailures = new ArrayList<>();
        private boolean supervisorUpdated;
        private int healthTries;
        private String reason;
        private String failedCheck;
        private String failedCheckOutput;

        Builder() {}

        public Builder updateId(String updateId) {
            this.updateId = updateId;
            return this;
        }

        public Builder startedAt(String startedAt) {
            this.startedAt = startedAt;
            return this;
        }

        public Builder targetVersion(String targetVersion) {
            this.targetVersion = targetVersion;
            return this;
        }

        public Builder images(List<String> images) {
            this.images = images;
            return this;
        }

        public Builder delta(String delta) {
            this.delta = delta;
            return this;
        }

        public Builder requireUpgrade(boolean requireUpgrade) {
            this.requireUpgrade = requireUpgrade;
            return this;
        }

        public Builder reboot(boolean reboot) {
            this.reboot = reboot;
            return this;
        }

        public Builder registries(Registries registries) {
            this.registries = registries;
            return this;
        }

        public Builder fromVersion(String fromVersion) {
            this.fromVersion = fromVersion;
            return this;
        }

        public Builder activeSlot(String activeSlot) {
            this.activeSlot = activeSlot;
            return this;
        }

        public Builder spareSlot(String spareSlot) {
            this.spareSlot = spareSlot;
            return this;
        }

        public Builder supervisorVersionBefore(String supervisorVersionBefore) {
            this.supervisorVersionBefore = supervisorVersionBefore;
            return this;
        }

        public Builder vpnWasOnline(boolean vpnWasOnline) {
            this.vpnWasOnline = vpnWasOnline;
            return this;
        }

        public Builder attempts(int attempts) {
            this.attempts = attempts;
            return this;
        }

        public Builder transitions(int transitions) {
            this.transitions = transitions;
            return this;
        }

        public Builder source(String source) {
            this.source = source;
            return this;
        }

        public Builder manifestDigest(String manifestDigest) {
            this.manifestDigest = manifestDigest;
            return this;
        }

        public Builder securityVersion(Long securityVersion) {
            this.securityVersion = securityVersion;
            return this;
        }

        public Builder bytesFetched(long bytesFetched) {
            this.bytesFetched = bytesFetched;
            return this;
        }

        public Builder chunksWritten(int chunksWritten) {
            this.chunksWritten = chunksWritten;
            return this;
        }

        public Builder sourceFailures(List<String> sourceFailures) {
            this.sourceFailures = sourceFailures;
            return this;
        }

        public Builder supervisorUpdated(boolean supervisorUpdated) {
            this.supervisorUpdated = supervisorUpdated;
            return this;
        }

        public Builder healthTries(int healthTries) {
            this.healthTries = healthTries;
            return this;
        }

        public Builder reason(String reason) {
            this.reason = reason;
            return this;
        }

        public Builder failedCheck(String failedCheck) {
            this.failedCheck = failedCheck;
            return this;
        }

        public Builder failedCheckOutput(String failedCheckOutput) {
            this.failedCheckOutput = failedCheckOutput;
            return this;
        }

        /** Adds one failed source to those recorded (to the context's, when the change is applied). */
        public Builder addSourceFailure(String failure) {
            List<String> more = sourceFailures == null ? new ArrayList<>() : new ArrayList<>(sourceFailures);
            more.add(failure);
            this.sourceFailures = more;
            return this;
        }

        public UpdateContext build() {
            return new UpdateContext(updateId, startedAt, targetVersion, images, delta, requireUpgrade, reboot,
                    registries, fromVersion, activeSlot, spareSlot, supervisorVersionBefore, vpnWasOnline, attempts,
                    transitions, source, manifestDigest, securityVersion, bytesFetched, chunksWritten, sourceFailures,
                    supervisorUpdated, healthTries, reason, failedCheck, failedCheckOutput);
        }
    }

    /** {@code hupd update}'s registry options; the credentials file by its path, never its contents. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonDeserialize(builder = Registries.Builder.class)
    public record Registries(
            List<String> insecure,
            String credentialsFile,
            /* --registry-speed-limit and --registry-speed-time, null when not given. */
            Long lowSpeedBytes,
            Integer lowSpeedSeconds) {
        public Registries {
            insecure = unmodifiable(insecure);
        }

        /** How Jackson reads the options (an older hupd may have left one out). */
        @JsonPOJOBuilder(withPrefix = "")
        @JsonIgnoreProperties(ignoreUnknown = true)
        static final class Builder {
            private List<String> insecure = new ArrayList<>();
            private String credentialsFile;
            private Long lowSpeedBytes;
            private Integer lowSpeedSeconds;

            Builder insecure(List<String> insecure) {
                this.insecure = insecure;
                return this;
            }

            Builder credentialsFile(String credentialsFile) {
                this.credentialsFile = credentialsFile;
                return this;
            }

            Builder lowSpeedBytes(Long lowSpeedBytes) {
                this.lowSpeedBytes = lowSpeedBytes;
                return this;
            }

            Builder lowSpeedSeconds(Integer lowSpeedSeconds) {
                this.lowSpeedSeconds = lowSpeedSeconds;
                return this;
            }

            Registries build() {
                return new Registries(insecure, credentialsFile, lowSpeedBytes, lowSpeedSeconds);
            }
        }
    }
}
