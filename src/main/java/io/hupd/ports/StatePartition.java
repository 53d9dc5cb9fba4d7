package io.hupd.ports;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/** The state partition's rollback breadcrumbs and result markers (balena's names, so that tools can read them). */
public interface StatePartition {
    String HEALTH_BREADCRUMB = "rollback-health-breadcrumb";
    String ALTBOOT_BREADCRUMB = "rollback-altboot-breadcrumb";
    String HEALTH_TRIGGERED = "rollback-health-triggered";
    String ALTBOOT_TRIGGERED = "rollback-altboot-triggered";
    String HEALTH_FAILED = "rollback-health-failed";
    String VARIABLES = "rollback-health-variables";

    /** Creates both breadcrumbs, records whether the VPN was online, removes old result markers; durable. */
    void arm(boolean vpnWasOnline) throws IOException;

    /** Removes the breadcrumbs and the variables; durable. Result markers stay. */
    void disarm() throws IOException;

    boolean has(String name) throws IOException;

    /** Writes a result marker; its content is the reason, kept for people and tools. */
    void writeMarker(String name, String content) throws IOException;

    Optional<String> read(String name) throws IOException;

    List<String> breadcrumbs() throws IOException;

    List<String> markers() throws IOException;

    Optional<Boolean> vpnWasOnline() throws IOException;
}
