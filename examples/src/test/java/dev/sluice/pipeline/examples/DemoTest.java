package dev.sluice.pipeline.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.pipeline.audit.AuditEvent;
import dev.sluice.pipeline.audit.AuditWriter;
import dev.sluice.pipeline.audit.InMemoryAuditSink;
import dev.sluice.pipeline.audit.JdbcAuditSink;
import dev.sluice.pipeline.audit.Postgres;
import dev.sluice.pipeline.examples.demo.Demo;
import dev.sluice.pipeline.examples.demo.DemoMain;
import dev.sluice.pipeline.examples.demo.DemoOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
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
    void aSecondDemoOnTheSameFolderEndsWithBadInputBeforeItTouchesTheTable(@TempDir Path dir) throws Exception {
        // given a writer that holds the folder's spill file, as a demo running there does
        DemoOptions options = new DemoOptions(1_000, 0, 0, null, dir);
        try (AuditWriter running = AuditWriter.builder(new InMemoryAuditSink())
                .spillFile(options.spillFile())
                .build()) {
            // when
            assertThatThrownBy(() -> Demo.run(options, new PrintStream(new ByteArrayOutputStream()), false))
                    // then: bad input, in one line, and the table was not recreated
                    .isInstanceOf(CommandLine.BadInput.class)
                    .hasMessage("--data-dir: the audit spill file " + options.spillFile() + " is in use by another run"
                            + " on the same folder; wait for it to end, or give this run a folder of its own");
        }
        try (Connection c = DriverManager.getConnection(options.effectiveJdbcUrl());
                ResultSet tables = c.getMetaData().getTables(null, null, "demo_users", null)) {
            assertThat(tables.next()).as("the table demo_users exists").isFalse();
        }
    }

    @Test
    void everyUserLandsExactlyOnceThroughRepeatedServerFailures(@TempDir Path dir) throws Exception {
        // given a server that fails with UNAVAILABLE every 3,000 users
        DemoOptions options = new DemoOptions(20_000, 3_000, 0, null, dir);
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
        DemoOptions options = new DemoOptions(10_000, 0, 30, null, dir);
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
        String database = ownDatabase();
        try {
            DemoOptions options = DemoOptions.parse(
                            List.of("--users", "5000", "--jdbc-url", Postgres.jdbcUrl(database)))
                    .withDataDir(dir);
            String out = run(options, 0);
            assertThat(out).contains("5,000 rows, 5,000 distinct users of 5,000: every user landed exactly once");
        } finally {
            Postgres.dropDatabase(database);
        }
    }

    @Test
    void sayWhatItRecreatesAndRecreatesItsOwnTableRunAfterRun(@TempDir Path dir) throws Exception {
        // given a database the demo has written to once
        DemoOptions options = new DemoOptions(3_000, 0, 0, null, dir);
        String first = run(options, 0);
        assertThat(first)
                .startsWith("Database " + dir.resolve("demo.db") + ": table demo_users recreated (the demo's own,"
                        + " recorded in sluice_demo_meta); audit rows added to audit_logs");
        // when it runs again
        String second = run(options, 0);
        // then it recreated its table: the second run's users, each once
        assertThat(second).contains("3,000 rows, 3,000 distinct users of 3,000: every user landed exactly once");
    }

    @Test
    void refusesADemoUsersTableItDidNotCreateAndLeavesItUntouched(@TempDir Path dir) throws Exception {
        // given a SQLite database with a demo_users table of someone else's
        Path file = dir.resolve("demo.db");
        String url = "jdbc:sqlite:" + file;
        foreignTable(url);
        // when the demo is pointed at it
        Jvm.Exit exit =
                Jvm.run(Duration.ofSeconds(90), DemoMain.class, dir, "--users", "1000", "--data-dir", dir.toString());
        // then it refuses in one line, and the table is as it was
        assertThat(exit.code()).as(exit.err()).isEqualTo(2);
        assertThat(exit.errLines())
                .singleElement()
                .isEqualTo("run-demo: the database jdbc:sqlite:" + file + " has a table demo_users that the demo did"
                        + " not create (no row for it in sluice_demo_meta); the demo leaves it untouched: give it a"
                        + " database of its own with --jdbc-url (see ./run-demo --help)");
        assertThat(exit.out()).isEmpty();
        assertThat(foreignRows(url)).containsExactly("precious");
    }

    @Test
    void refusesADemoUsersTableItDidNotCreateOnPostgreSql(@TempDir Path dir) throws Exception {
        String database = ownDatabase();
        try {
            String url = Postgres.jdbcUrl(database);
            foreignTable(url);
            DemoOptions options = DemoOptions.parse(List.of("--users", "1000", "--jdbc-url", url))
                    .withDataDir(dir);
            assertThatThrownBy(() -> Demo.run(options, System.out, false))
                    .isInstanceOf(CommandLine.BadInput.class)
                    .hasMessageContaining("has a table demo_users that the demo did not create");
            assertThat(foreignRows(url)).containsExactly("precious");
        } finally {
            Postgres.dropDatabase(database);
        }
    }

    /** A PostgreSQL database for one test: the demo recreates its table wherever it runs. */
    private static String ownDatabase() {
        return "sluice_test_demo_"
                + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
    }

    private static void foreignTable(String url) throws Exception {
        try (Connection c = DriverManager.getConnection(url);
                Statement s = c.createStatement()) {
            s.execute("CREATE TABLE demo_users (note VARCHAR(32))");
            s.execute("INSERT INTO demo_users VALUES ('precious')");
        }
    }

    private static List<String> foreignRows(String url) throws Exception {
        List<String> rows = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url);
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT note FROM demo_users")) {
            while (r.next()) {
                rows.add(r.getString(1));
            }
        }
        return rows;
    }

    @Test
    void badOptionsAreRefusedWithWhatIsWrong() {
        assertThatThrownBy(() -> DemoOptions.parse(List.of("--users", "0")))
                .isInstanceOf(CommandLine.BadInput.class)
                .hasMessage("--users must be at least 1, got 0");
        assertThatThrownBy(() -> DemoOptions.parse(List.of("--users", "many")))
                .isInstanceOf(CommandLine.BadInput.class)
                .hasMessage("--users needs a whole number, got 'many'");
        assertThatThrownBy(() -> DemoOptions.parse(List.of("--fail-every")))
                .isInstanceOf(CommandLine.BadInput.class)
                .hasMessage("--fail-every needs a value");
        assertThatThrownBy(() -> DemoOptions.parse(List.of("--jdbc-url", "mysql://x")))
                .isInstanceOf(CommandLine.BadInput.class)
                .hasMessageContaining("jdbc:sqlite: or jdbc:postgresql:");
        assertThatThrownBy(() -> DemoOptions.parse(List.of("--speed", "11")))
                .isInstanceOf(CommandLine.BadInput.class)
                .hasMessage("unknown option '--speed'");
        assertThatThrownBy(() -> DemoOptions.parse(List.of("--users=")))
                .isInstanceOf(CommandLine.BadInput.class)
                .hasMessage("--users needs a whole number, got ''");
    }

    @Test
    void optionsTakeTheirValueAfterASpaceOrAnEqualsSign() throws Exception {
        assertThat(DemoOptions.parse(List.of("--users=7", "--slow-sink", "3", "--data-dir=x")))
                .isEqualTo(new DemoOptions(7, 0, 3, null, Path.of("x")));
    }
}
