package dev.sluice.pipeline.examples.demo;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import ch.qos.logback.core.encoder.Encoder;

/**
 * A logback appender that writes log lines to stderr above the terminal's {@link StatusLine} (the demo's progress
 * line), so that neither breaks into the other. With no status shown it writes as a console appender does.
 *
 * <pre>{@code
 * <appender name="STDERR" class="dev.sluice.pipeline.examples.demo.StatusLineAppender">
 *   <encoder class="ch.qos.logback.classic.encoder.PatternLayoutEncoder"><pattern>...</pattern></encoder>
 * </appender>
 * }</pre>
 *
 * <p>Thread-safe: events are encoded concurrently and written under the status line's lock.
 */
public final class StatusLineAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {

    private Encoder<ILoggingEvent> encoder;
    private StatusLine statusLine = StatusLine.console();

    /** The encoder of each log line; required. */
    public void setEncoder(Encoder<ILoggingEvent> encoder) {
        this.encoder = encoder;
    }

    /** Writes above {@code line} instead of the console's. */
    void setStatusLine(StatusLine line) {
        this.statusLine = line;
    }

    @Override
    public void start() {
        if (encoder == null) {
            addError("no encoder set for the appender named '" + name + "'");
            return;
        }
        super.start();
    }

    @Override
    protected void append(ILoggingEvent event) {
        statusLine.printAbove(encoder.encode(event));
    }
}
