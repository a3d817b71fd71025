package dev.sluice.pipeline.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.audit.AuditEvent;
import dev.sluice.pipeline.audit.JdbcAuditSink;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Ctrl-C stops the consumer job gracefully: everything taken in is written and audited, and the process exits. */
class ConsumerJobTest {

    @Test
    @Timeout(120)
    void ctrlCStopsGracefullyWritingWhatIsInsideAndAuditingHowItEnded(@TempDir Path dir) throws Exception {
        // given a running consumer job
        Path db = dir.resolve("consumer.db");
        Process job = Jvm.start(Launcher.class, dir, "consumer", "--data-dir", dir.toString());
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(job.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (Exception ignored) {
                // the process is gone
            }
        });
        await().atMost(Duration.ofSeconds(60))
                .until(() -> lines.stream().anyMatch(l -> l.startsWith("consuming into " + db + " (table readings)")));
        await().atMost(Duration.ofSeconds(60)).until(() -> rows(db) > 5_000);

        // when Ctrl-C
        long start = System.nanoTime();
        Jvm.interrupt(job);

        // then it exits promptly, as a process ended by SIGINT does (128 + 2)
        assertThat(job.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
        String err = Jvm.stderr(job);
        assertThat(job.exitValue()).as(err).isEqualTo(130);
        await().atMost(Duration.ofSeconds(5)).until(() -> lines.stream().anyMatch(l -> l.startsWith("stopped")));
        String stopped =
                lines.stream().filter(l -> l.startsWith("stopped")).findFirst().orElseThrow();
        Matcher m = Pattern.compile(
                        "outcome (\\w+), (\\d+) readings written \\((\\d+) rows in the table\\), audit (\\d+) written")
                .matcher(stopped);
        assertThat(m.find()).as(stopped).isTrue();
        long written = Long.parseLong(m.group(2));
        assertThat(m.group(1)).isEqualTo("STOPPED");
        assertThat(Long.parseLong(m.group(3)))
                .as("every reading taken in was written")
                .isEqualTo(written);
        assertThat(rows(db)).isEqualTo(written);
        // and the audit row, first written when the job started, now says how it ended
        List<AuditEvent> audit = JdbcAuditSink.sqlite(db)
                .findByType(
                        AuditEvent.PIPELINE_RUN, Instant.EPOCH, Instant.now().plusSeconds(60), 10);
        assertThat(audit).singleElement().satisfies(e -> {
            assertThat(e.outcome()).isEqualTo("STOPPED");
            assertThat(e.success()).isTrue();
            assertThat(e.itemCount()).isEqualTo(written);
        });
    }

    private static long rows(Path db) {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT COUNT(*) FROM readings")) {
            r.next();
            return r.getLong(1);
        } catch (Exception notYet) {
            return 0;
        }
    }
}
