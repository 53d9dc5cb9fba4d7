package io.hupd.runner;

import java.util.List;

/** What the operator asked {@code hupd update} for. */
public record UpdateRequest(String targetVersion, List<String> images, String delta, boolean requireUpgrade,
        boolean reboot) {}
