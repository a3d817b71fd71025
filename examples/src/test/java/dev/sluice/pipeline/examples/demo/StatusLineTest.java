package dev.sluice.pipeline.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.status.Status;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * On a terminal the progress line keeps the bottom line whole, and log lines appear above it. The bytes written are
 * played on a small terminal model: what a user would see.
 */
@Timeout(60)
class StatusLineTest {

    /** Both streams into one buffer, as a terminal receives stdout and stderr. */
    private final ByteArrayOutputStream terminal = new ByteArrayOutputStream();

    private final PrintStream stream = new PrintStream(terminal, true, StandardCharsets.UTF_8);

    private List<String> screen() {
        return TerminalScreen.of(terminal.toString(StandardCharsets.UTF_8));
    }

    @Test
    void logLinesAppearAboveTheStatusWhichStaysWhole() {
        StatusLine status = new StatusLine(stream, stream, 80);
        // when the status is drawn, redrawn shorter, and log lines arrive in between
        status.show("users 100/1,000 10.0% | ETA --");
        status.printAbove("12:00:00.001 INFO  a log line\n");
        status.show("users 900/1,000 90.0% | ETA 1s");
        status.printAbove("12:00:00.002 WARN  another\n");
        status.show("users 1,000/1,000 100.0%");
        // then each log line is whole on a line of its own, and the status is last, with nothing of older ones
        assertThat(screen())
                .containsExactly(
                        "12:00:00.001 INFO  a log line", "12:00:00.002 WARN  another", "users 1,000/1,000 100.0%");
    }

    @Test
    void aFinishedStatusStaysAndLaterLogLinesGoBelowIt() {
        StatusLine status = new StatusLine(stream, stream, 80);
        status.show("users 10/10");
        status.finish();
        status.printAbove("after\n");
        assertThat(screen()).containsExactly("users 10/10", "after");
    }

    @Test
    void withNoStatusLogLinesPassThroughUnchanged() {
        StatusLine status = new StatusLine(stream, stream, 80);
        status.printAbove("one\n");
        status.printAbove("two\n");
        assertThat(terminal.toString(StandardCharsets.UTF_8)).isEqualTo("one\ntwo\n");
    }

    @Test
    void aStatusWiderThanTheTerminalIsCutSoItNeverWraps() {
        StatusLine status = new StatusLine(stream, stream, 20);
        status.show("0123456789abcdefghijklmnopqrstuvwxyz");
        status.printAbove("log\n");
        assertThat(screen()).containsExactly("log", "0123456789abcdefghi");
    }

    @RepeatedTest(20)
    void logLinesFromManyThreadsNeverBreakIntoTheStatus() throws Exception {
        // given a status redrawn continuously while four threads log
        StatusLine status = new StatusLine(stream, stream, 120);
        int threads = 4;
        int perThread = 200;
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread.ofVirtual().start(() -> {
                for (int i = 0; i < perThread; i++) {
                    status.printAbove("log line " + thread + "-" + i + " of a logging thread\n");
                }
                done.countDown();
            });
        }
        // when
        for (int i = 0; done.getCount() > 0; i++) {
            status.show("users " + i + "/1,000,000 | ETA --");
        }
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        status.show("users final");
        // then every log line is whole, on a line of its own, and the status is the last line
        List<String> screen = screen();
        assertThat(screen.getLast()).isEqualTo("users final");
        assertThat(screen.subList(0, screen.size() - 1))
                .hasSize(threads * perThread)
                .allMatch(l -> Pattern.matches("log line \\d-\\d+ of a logging thread", l));
    }

    @Test
    void theExamplesLogThroughTheStatusLine() throws Exception {
        // given logging configured by the examples' logback.xml (the one in the jar)
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter()); // what SLF4J's logback provider gives the context it makes
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        URL config = StatusLineAppender.class.getClassLoader().getResource("logback.xml");
        configurator.doConfigure(config);
        assertThat(context.getStatusManager().getCopyOfStatusList())
                .noneMatch(s -> s.getEffectiveLevel() >= Status.WARN);
        Appender<?> appender = context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("STDERR");
        assertThat(appender).isInstanceOf(StatusLineAppender.class);
        assertThat(appender.isStarted()).isTrue();
        StatusLine status = new StatusLine(stream, stream, 200);
        ((StatusLineAppender) appender).setStatusLine(status);
        // when a log line arrives while the progress line is shown
        status.show("users 5/10 50.0% | ETA --");
        context.getLogger("dev.sluice.Example").info("a resume");
        // then it is printed above the progress line
        assertThat(screen())
                .as(terminal.toString(StandardCharsets.UTF_8))
                .hasSize(2)
                .last()
                .isEqualTo("users 5/10 50.0% | ETA --");
        assertThat(screen().getFirst()).matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  Example .*\\] a resume");
        context.stop();
    }
}
