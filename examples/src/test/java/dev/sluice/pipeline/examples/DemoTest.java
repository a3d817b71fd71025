package dev.sluice.pipeline.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.pipeline.audit.AuditEvent;
import dev.sluice.pipeline.audit.JdbcAuditSink;
import dev.sluice.pipeline.audit.Postgres;
import dev.sluice.pipeline.examples.demo.Demo;
import dev.sluice.pipeline.examples.demo.DemoMain;
import dev.sluice.pipeline.examples.demo.DemoOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The demo end to end: a gRPC server on Netty, the client pipeline, the database, the audit row. */
@Timeout(120)
class DemoTest {

    private static String run(DemoOptions options, int expectedExit) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int exit = Demo.run(options, new PrintStream(bytes, true, StandardCharsets.UTF_8), false);
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(exit).as(out).isEqualTo(expectedExit);
        return out;
    }

    private static long number(String out, String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        assertThat(m.find()).as("'%s' in%n%s", regex, out).isTrue();
        return Long.parseLong(m.group(1).replace(",", ""));
    }

    @Test
    void everyUserLandsExactlyOnceThroughRepeatedServerFailures(@TempDir Path dir) throws Exception {
        // given a server that fails with UNAVAILABLE every 3,000 users
        DemoOptions options = new DemoOptions(20_000, 3_000, 0, null, dir.resolve("demo.db"));
        // when
        String out = run(options, 0);
        // then: the stream resumed after each failure, and the database holds each user once
        assertThat(out).contains("20,000 rows, 20,000 distinct users of 20,000: every user landed exactly once");
        assertThat(number(out, "(\\d+) resumes")).isGreaterThanOrEqualTo(6);
        List<AuditEvent> audit = JdbcAuditSink.sqlite(dir.resolve("demo.db"))
                .findByType(
                        AuditEvent.GRPC_STREAMING,
                        java.time.Instant.EPOCH,
                        java.time.Instant.now().plusSeconds(60),
                        10);
        assertThat(audit).singleElement().satisfies(e -> {
            assertThat(e.outcome()).isEqualTo("COMPLETED");
            assertThat(e.itemCount()).isEqualTo(20_000);
            assertThat(e.resumes()).isGreaterThanOrEqualTo(6);
            assertThat(e.methodName()).isEqualTo("users-online-import");
        });
    }

    @Test
    void aSlowSinkHoldsTheServerBack(@TempDir Path dir) throws Exception {
        // given a database sink that takes 30 ms more per batch of 500: 60 ms per 1,000 users at best
        DemoOptions options = new DemoOptions(10_000, 0, 30, null, dir.resolve("demo.db"));
        // when
        String out = run(options, 0);
        // then: the progress lines show the server's producer only a bounded distance ahead of the database. The
        // bound: the server pipeline's links and groups (256 + 64 + 64), the HTTP/2 window of 128 KiB (about 2,300
        // users of ~57 bytes), the source's prefetch 256, the client's links (256 + 256), ordered enrichment's groups
        // and window (64 + 128 + 64), the batch in hand (500), 4 waiting batches (2,000) and the one being written
        // (500): about 7,000 of the 10,000.
        Matcher ahead = Pattern.compile("server ahead ([\\d,]+)").matcher(out);
        long max = 0;
        int lines = 0;
        while (ahead.find()) {
            max = Math.max(max, Long.parseLong(ahead.group(1).replace(",", "")));
            lines++;
        }
        assertThat(lines).as(out).isPositive();
        assertThat(max).as(out).isLessThanOrEqualTo(7_500);
        assertThat(out).contains("every user landed exactly once");
    }

    @Test
    void writesToPostgreSqlWhenGivenItsUrl(@TempDir Path dir) throws Exception {
        DemoOptions options = DemoOptions.parse(List.of("--users", "5000", "--jdbc-url", Postgres.jdbcUrl()))
                .withDatabase(dir.resolve("unused.db"));
        String out = run(options, 0);
        assertThat(out).contains("5,000 rows, 5,000 distinct users of 5,000: every user landed exactly once");
    }

    @Test
    void badOptionsAreRefusedWithWhatIsWrong() {
        assertThatThrownBy(() -> DemoOptions.parse(List.of("--users", "0")))
                .isInstanceOf(DemoOptions.BadOption.class)
                .hasMessage("--users must be at least 1, got 0");
        assertThatThrownBy(() -> DemoOptions.parse(List.of("--users", "many")))
                .isInstanceOf(DemoOptions.BadOption.class)
                .hasMessage("--users needs a whole number, got 'many'");
        assertThatThrownBy(() -> DemoOptions.parse(List.of("--fail-every")))
                .isInstanceOf(DemoOptions.BadOption.class)
                .hasMessage("--fail-every needs a value");
        assertThatThrownBy(() -> DemoOptions.parse(List.of("--jdbc-url", "mysql://x")))
                .isInstanceOf(DemoOptions.BadOption.class)
                .hasMessageContaining("jdbc:sqlite: or jdbc:postgresql:");
        assertThatThrownBy(() -> DemoOptions.parse(List.of("--speed", "11")))
                .isInstanceOf(DemoOptions.BadOption.class)
                .hasMessage("unknown option '--speed'");
    }

    @Test
    void aBadOptionPrintsUsageAndExitsNonZero(@TempDir Path dir) throws Exception {
        Process demo = Jvm.start(DemoMain.class, dir, "--users", "-5");
        assertThat(demo.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String err = new String(demo.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(demo.exitValue()).isEqualTo(2);
        assertThat(err).contains("--users must be at least 1, got -5").contains("Usage: run-demo");
    }
}
