package io.hupd.cli;

import io.hupd.ports.Progress;

/** Progress told to two listeners. */
final class Progresses {
    private Progresses() {}

    static Progress both(Progress first, Progress second) {
        if (second == Progress.NONE) {
            return first;
        }
        return new Progress() {
            @Override
            public void start(String task, long totalBytes) {
                first.start(task, totalBytes);
                second.start(task, totalBytes);
            }

            @Override
            public void advance(long bytes) {
                first.advance(bytes);
                second.advance(bytes);
            }

            @Override
            public void finish() {
                first.finish();
                second.finish();
            }
        };
    }
}
