package io.hupd.cli;

import io.hupd.ports.Progress;
import java.io.PrintStream;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar (percent, bytes, rate, ETA) on a terminal; on anything else (a log, a pipe, CI) a plain line at
 * the start, every 25 %, and at the end, so that logs stay readable.
 */
final class ConsoleProgress implements Progress {
    private final PrintStream out;
    private final boolean terminal;
    private ProgressBar bar;
    private String task;
    private long total;
    private long done;
    private int lastQuarter;

    ConsoleProgress(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    @Override
    public void start(String task, long totalBytes) {
        finish();
        this.task = task;
        this.total = totalBytes;
        this.done = 0;
        this.lastQuarter = 0;
        if (terminal && totalBytes > 0) {
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(totalBytes)
                    .setStyle(ProgressBarStyle.ASCII).setUnit(" MiB", 1 << 20).showSpeed().build();
        } else {
            out.println(task + (totalBytes > 0 ? " (" + totalBytes + " bytes)" : "") + " ...");
        }
    }

    @Override
    public void advance(long bytes) {
        done += bytes;
        if (bar != null) {
            bar.stepBy(bytes);
        } else if (total > 0) {
            int quarter = (int) Math.min(4, done * 4 / total);
            if (quarter > lastQuarter && quarter < 4) {
                lastQuarter = quarter;
                out.println(task + ": " + quarter * 25 + "% (" + done + " of " + total + " bytes)");
            }
        }
    }

    @Override
    public void finish() {
        if (bar != null) {
            bar.close();
            bar = null;
        } else if (task != null) {
            out.println(task + ": done" + (done > 0 ? " (" + done + " bytes)" : ""));
        }
        task = null;
    }
}
