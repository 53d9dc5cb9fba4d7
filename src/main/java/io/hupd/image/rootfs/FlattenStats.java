package io.hupd.image.rootfs;

/** What a flatten did: tar entries read over all layers, and bytes of file content written. */
public record FlattenStats(long entries, long bytes) {}
