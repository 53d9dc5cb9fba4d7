package io.hupd.runner;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import io.hupd.ports.Progress;
import io.hupd.steps.StepLog;
import java.io.PrintStream;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The lines people see: on the terminal, and in the update's own file {@code data/balenahup/<update-id>.log}
 * (with time and state), which stays after a rollback so that its reason can be read later.
 */
public final class UpdateLog implements StepLog, AutoCloseable {
    private final PrintStream out;
    private final Progress progress;
    private Logger logger;
    private FileAppender<ILoggingEvent> file;
    private boolean quiet;
    private boolean stateSet;
    private java.util.function.Consumer<String> stateListener = s -> { };

    public UpdateLog(PrintStream out, Progress progress) {
        this.out = out;
        this.progress = progress;
    }

    /**
     * The logger exists from the first file on: before that a line has nowhere to go but the terminal, and a
     * command that never opens one (status, history) then does not start Logback at all.
     */
    private Logger logger(LoggerContext lc) {
        if (logger == null) {
            // One logger per log: two in one JVM (tests, a demo) must not write each other's files.
            logger = lc.getLogger("io.hupd.update." + Integer.toHexString(System.identityHashCode(this)));
            logger.setAdditive(false);
            logger.setLevel(Level.INFO);
        }
        return logger;
    }

    /** Sends the lines of this update to its log file as well (appending: a resumed update keeps one file). */
    public void openFile(Path logFile) {
        if (file != null && logFile.toString().equals(file.getFile())) {
            return;
        }
        closeFile();
        LoggerContext lc = (LoggerContext) LoggerFactory.getILoggerFactory();
        PatternLayoutEncoder enc = new PatternLayoutEncoder();
        enc.setContext(lc);
        enc.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX,UTC} %-5level [%X{state}] %msg%n");
        enc.start();
        FileAppender<ILoggingEvent> fa = new FileAppender<>();
        fa.setContext(lc);
        fa.setName("update-file");
        fa.setFile(logFile.toString());
        fa.setAppend(true);
        fa.setImmediateFlush(true);
        fa.setEncoder(enc);
        fa.start();
        logger(lc).addAppender(fa);
        file = fa;
    }

    /** Terminal output off (JSON mode); the file still gets every line. */
    public void quiet(boolean q) {
        this.quiet = q;
    }

    public void state(String state) {
        MDC.put("state", state);
        stateSet = true;
        stateListener.accept(state);
    }

    /** Told every state the update enters (the daemon streams them to whoever follows the update). */
    public void onState(java.util.function.Consumer<String> listener) {
        this.stateListener = listener;
    }

    @Override
    public void info(String line) {
        if (logger != null) {
            logger.info(line);
        }
        print(line);
    }

    @Override
    public void warn(String line) {
        if (logger != null) {
            logger.warn(line);
        }
        print("warning: " + line);
    }

    @Override
    public Progress progress() {
        return quiet ? Progress.NONE : progress;
    }

    private void print(String line) {
        if (!quiet) {
            String state = stateSet ? MDC.get("state") : null;
            out.println(state == null ? line : "[" + state + "] " + line);
            out.flush();
        }
    }

    private void closeFile() {
        if (file != null) {
            logger.detachAppender(file);
            file.stop();
            file = null;
        }
    }

    @Override
    public void close() {
        closeFile();
        if (stateSet) {
            // Touching the MDC starts SLF4J and Logback: not for a log that never had a state.
            MDC.remove("state");
        }
    }
}
