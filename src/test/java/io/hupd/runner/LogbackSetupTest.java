package io.hupd.runner;

import static org.junit.jupiter.api.Assertions.*;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.status.NopStatusListener;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The configuration in code replaces logback.xml: same levels, no appenders for libraries, no status lines. */
class LogbackSetupTest {
    @Test
    void librariesStayQuietAndLogbackPrintsNoStatus() {
        LoggerContext lc = new LoggerContext();
        assertEquals(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY, new LogbackSetup().configure(lc));
        Logger root = lc.getLogger(Logger.ROOT_LOGGER_NAME);
        assertEquals(Level.WARN, root.getLevel());
        assertFalse(root.iteratorForAppenders().hasNext(), "library lines must go nowhere");
        assertTrue(lc.getStatusManager().getCopyOfStatusListenerList().stream()
                .anyMatch(l -> l instanceof NopStatusListener));
    }

    @Test
    void logbackFindsItThroughServiceLoaderAndUsesIt() {
        assertTrue(ServiceLoader.load(Configurator.class).stream().anyMatch(p -> p.type() == LogbackSetup.class));
        LoggerContext lc = (LoggerContext) LoggerFactory.getILoggerFactory();
        assertEquals(Level.WARN, lc.getLogger(Logger.ROOT_LOGGER_NAME).getLevel());
        assertFalse(lc.getLogger("org.h2").isInfoEnabled());
    }
}
