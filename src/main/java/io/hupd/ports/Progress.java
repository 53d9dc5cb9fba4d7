package io.hupd.ports;

/** Progress of a long piece of work (a download, a write), shown as a bar on a terminal and as lines otherwise. */
public interface Progress {
    /** Starts a task; {@code totalBytes} is -1 when unknown. */
    void start(String task, long totalBytes);

    void advance(long bytes);

    void finish();

    /** What the task works on now (one layer of a download), for whoever shows where it stands. */
    default void note(String what) {}

    Progress NONE = new Progress() {
        @Override
        public void start(String task, long totalBytes) {}

        @Override
        public void advance(long bytes) {}

        @Override
        public void finish() {}
    };
}
