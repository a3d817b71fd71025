package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteDataSource;

/** What is particular to SQLite; {@link JdbcAuditSinkTest} runs the behaviour every store shares. */
@Timeout(60)
class JdbcAuditSinkSqliteTest {

    @TempDir
    Path dir;

    private SQLiteDataSource dataSource;

    @BeforeEach
    void openDatabase() {
        dataSource = new SQLiteDataSource();
        dataSource.setUrl("jdbc:sqlite:" + dir.resolve("audit.db"));
    }

    private JdbcAuditSink sink() {
        return JdbcAuditSink.forDataSource(dataSource);
    }

    private List<String> strings(String sql, Object... params) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            List<String> out = new java.util.ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }

    @Test
    void theJsonIsQueryableWithTheDatabasesOwnOperators() throws SQLException {
        sink().write(List.of(Events.everyFieldSet(), Events.finished("json", 1)));

        assertThat(strings("SELECT audit_data ->> '$.additionalData.userId' FROM audit_logs "
                        + "WHERE json_extract(audit_data, '$.retries') = 3"))
                .containsExactly("SystemUser");
        assertThat(strings(
                        "SELECT json_extract(audit_data, '$.additionalData.nested.level') FROM audit_logs "
                                + "WHERE audit_data ->> '$.eventType' = ?",
                        AuditEvent.GRPC_STREAMING))
                .containsExactly("2");
        assertThat(strings(
                        "SELECT value FROM audit_logs, json_each(audit_data, '$.additionalData.list') "
                                + "WHERE event_type = ? ORDER BY key",
                        AuditEvent.GRPC_STREAMING))
                .containsExactly("1", "two", "3.5", "1");
    }

    @Test
    void theDatabaseIsInWalModeAndConnectionsWaitForLocks() throws SQLException {
        JdbcAuditSink sink = JdbcAuditSink.sqlite(dir.resolve("wal.db"));
        sink.write(List.of(Events.finished("wal", 1)));

        SQLiteDataSource plain = new SQLiteDataSource();
        plain.setUrl("jdbc:sqlite:" + dir.resolve("wal.db"));
        assertThat(strings(plain, "PRAGMA journal_mode")).containsExactly("wal");
        assertThat(strings(plain, "SELECT correlation_id FROM audit_logs")).containsExactly("wal-1");
    }

    @Test
    void aBatchAfterAFailedOneIsWrittenOnAFreshConnectionWithFreshStatements() throws SQLException {
        // given a sink that keeps its write connection, with its insert for batches of 3 prepared by a first batch
        JdbcAuditSink sink = JdbcAuditSink.sqlite(dir.resolve("kept.db"));
        SQLiteDataSource plain = new SQLiteDataSource();
        plain.setUrl("jdbc:sqlite:" + dir.resolve("kept.db"));
        sink.write(batch("first", 0));

        // when the table is away while a batch of the same size is written, that batch fails
        execute(plain, "ALTER TABLE audit_logs RENAME TO audit_logs_away");
        assertThatThrownBy(() -> sink.write(batch("lost", 3))).isInstanceOf(AuditStoreException.class);
        execute(plain, "ALTER TABLE audit_logs_away RENAME TO audit_logs");

        // then the next one is written whole, on a fresh connection with its insert prepared anew
        sink.write(batch("after", 6));
        assertThat(strings(plain, "SELECT correlation_id FROM audit_logs ORDER BY id"))
                .containsExactly("first-0", "first-1", "first-2", "after-6", "after-7", "after-8");
        sink.close();
    }

    private static void execute(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static List<AuditEvent> batch(String prefix, int first) {
        return List.of(
                Events.finished(prefix, first), Events.finished(prefix, first + 1), Events.finished(prefix, first + 2));
    }

    @Test
    void aWriteWaitsForAnotherWritersLockRatherThanFailing() throws Exception {
        // given a DataSource whose connections would give up on a lock at once, and another connection holding the
        // database's write lock
        SQLiteDataSource impatient = new SQLiteDataSource();
        impatient.setUrl("jdbc:sqlite:" + dir.resolve("busy.db"));
        impatient.setBusyTimeout(0);
        FlakyDataSource watched = new FlakyDataSource(impatient);
        JdbcAuditSink sink = JdbcAuditSink.forDataSource(watched);
        sink.createSchema();
        java.util.concurrent.atomic.AtomicReference<Throwable> failure =
                new java.util.concurrent.atomic.AtomicReference<>();
        try (Connection holder = impatient.getConnection();
                Statement s = holder.createStatement()) {
            s.execute("BEGIN IMMEDIATE");

            // when the sink writes meanwhile
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    sink.write(List.of(Events.finished("busy", 1)));
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            assertThat(watched.batchStarted.await(10, java.util.concurrent.TimeUnit.SECONDS))
                    .isTrue();
            // The other writer keeps its lock a while longer: that is the scenario, not a way to wait for a thread.
            java.util.concurrent.TimeUnit.MILLISECONDS.sleep(300);
            s.execute("COMMIT");

            // then the sink waited for the lock (its busy timeout) and wrote
            assertThat(writer.join(java.time.Duration.ofSeconds(10))).isTrue();
        }
        assertThat(failure.get()).isNull();
        assertThat(sink.findByCorrelationId("busy-1")).hasSize(1);
    }

    @Test
    void sinksOpeningOneNewFileAtOnceAllWrite() throws Exception {
        // given new database files, each opened by six sinks at once (each switches the file to WAL mode, which
        // SQLite refuses at once, not after the busy timeout, while another connection holds the file)
        for (int round = 0; round < 40; round++) {
            SQLiteDataSource fresh = new SQLiteDataSource();
            fresh.setUrl("jdbc:sqlite:" + dir.resolve("new-" + round + ".db"));
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                int n = i;
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                        JdbcAuditSink.forDataSource(fresh).write(List.of(Events.finished("new-file", n)));
                    } catch (Throwable t) {
                        failures.add(t);
                    }
                }));
            }

            // when they all write their first event
            go.countDown();
            for (Thread t : threads) {
                assertThat(t.join(Duration.ofSeconds(30))).isTrue();
            }

            // then none failed, every event is stored, and the file is in WAL mode
            assertThat(failures).as("round %d", round).isEmpty();
            try (Connection c = fresh.getConnection();
                    Statement s = c.createStatement()) {
                try (ResultSet count = s.executeQuery("SELECT count(*) FROM " + JdbcAuditSink.DEFAULT_TABLE)) {
                    assertThat(count.next()).isTrue();
                    assertThat(count.getLong(1)).isEqualTo(6);
                }
                try (ResultSet mode = s.executeQuery("PRAGMA journal_mode")) {
                    assertThat(mode.next()).isTrue();
                    assertThat(mode.getString(1)).isEqualTo("wal");
                }
            }
        }
    }

    @Test
    void aRowThatIsNotJsonIsRefusedByTheTable() throws SQLException {
        sink().createSchema();
        try (Connection c = dataSource.getConnection();
                Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("INSERT INTO audit_logs (event_id, event_type, correlation_id, "
                            + "method_name, created_date, success, duration_ms, item_count, audit_data) "
                            + "VALUES ('x', 't', 'c', 'm', 0, 1, 0, 0, '{not json')"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("CHECK constraint failed");
        }
    }

    @Test
    void aSchemaIsRefusedClearlyAtFirstUse() {
        JdbcAuditSink sink = sink().withSchema("audit");

        assertThatThrownBy(() -> sink.write(List.of(Events.finished("schema", 1))))
                .isInstanceOf(AuditStoreException.class)
                .hasMessageContaining("SQLite keeps one database per file and has no schemas");
    }

    @Test
    void aSinkOnAFileInAMissingDirectoryIsRefusedAtOnce() {
        assertThatThrownBy(() -> JdbcAuditSink.sqlite(dir.resolve("missing/audit.db")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("file must be in an existing directory");
    }

    private static List<String> strings(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            List<String> out = new java.util.ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        }
    }
}
