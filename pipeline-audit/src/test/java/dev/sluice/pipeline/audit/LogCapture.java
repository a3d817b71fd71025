package dev.sluice.pipeline.audit;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.LoggerFactory;

/** Captures what one logger writes while it is open; safe to read while others log. */
final class LogCapture implements AutoCloseable {
    private final Logger logger;
    private final ConcurrentLinkedQueue<ILoggingEvent> captured = new ConcurrentLinkedQueue<>();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            event.prepareForDeferredProcessing();
            captured.add(event);
        }
    };

    private LogCapture(String loggerName) {
        logger = (Logger) LoggerFactory.getLogger(loggerName);
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.addAppender(appender);
    }

    static LogCapture of(String loggerName) {
        return new LogCapture(loggerName);
    }

    static LogCapture of(Class<?> type) {
        return new LogCapture(type.getName());
    }

    /** The formatted messages so far. */
    List<String> messages() {
        return captured.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    List<ILoggingEvent> events() {
        return List.copyOf(captured);
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
