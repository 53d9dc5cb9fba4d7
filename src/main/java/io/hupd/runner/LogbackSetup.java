package io.hupd.runner;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.status.NopStatusListener;

/**
 * Logback's configuration, in code: libraries stay quiet (WARN, and no appender of their own), and Logback's
 * own status lines are never printed; each update's file is added at run time by {@link UpdateLog}. Found
 * through ServiceLoader ({@code META-INF/services}) before Logback looks for a {@code logback.xml}, which it
 * would parse with its XML configurator at every start of a command. {@code -Dlogback.configurationFile=F}
 * still works.
 */
public final class LogbackSetup extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) {
            // Someone debugging asked for a file of their own: Logback's XML configurator reads it.
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        context.getStatusManager().add(new NopStatusListener());
        context.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.WARN);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
