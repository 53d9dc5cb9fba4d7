package io.hupd.machine;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything an update needs to resume after a crash, stored as JSON next to the state. Fields are only ever
 * added (an older hupd ignores the ones it does not know, so it can read what a newer one wrote).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public final class UpdateContext {
    /** Bumped when a field's meaning changes (never for additions). */
    public static final int FORMAT_VERSION = 1;

    public String updateId;
    public String startedAt;

    // What the operator asked for.
    public String targetVersion;
    public List<String> images = new ArrayList<>();
    public String delta;
    public boolean requireUpgrade = true;
    public boolean reboot = true;
    /**
     * How images are fetched, as {@code hupd update} was told when the update began; null until recorded (by
     * its first step), or in a context written by an older hupd. A run without that command line (a power-on)
     * uses it, so a resumed fetch reaches registries the same way.
     */
    public Registries registries;

    // The device when the update began.
    public String fromVersion;
    public String activeSlot;
    public String spareSlot;
    public String supervisorVersionBefore;
    public boolean vpnWasOnline;

    // Progress.
    public int attempts = 1;
    public int transitions;
    public String source;
    public String manifestDigest;
    /** The fetched image's anti-rollback security version (0 when it has none); the floor rises to it at commit. */
    public Long securityVersion;
    public long bytesFetched;
    /** A filesystem-image install: the chunks written to the spare slot and flushed (0 for a tar-layer image). */
    public int chunksWritten;
    public List<String> sourceFailures = new ArrayList<>();
    public boolean supervisorUpdated;
    public int healthTries;

    // Why it ended the way it did (anything but a commit).
    public String reason;
    public String failedCheck;
    public String failedCheckOutput;

    /** {@code hupd update}'s registry options; the credentials file by its path, never its contents. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public static final class Registries {
        public List<String> insecure = new ArrayList<>();
        public String credentialsFile;
        /** --registry-speed-limit and --registry-speed-time, null when not given. */
        public Long lowSpeedBytes;
        public Integer lowSpeedSeconds;
    }
}
