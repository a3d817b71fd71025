package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.audit.AuditEvent;
import dev.sluice.pipeline.audit.JdbcAuditSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The two stores of benchmark 7: PostgreSQL (the production target) and SQLite (the embedded default), each reached
 * the way a user would, and the plain JDBC a user of a one-insert-per-event library gets.
 *
 * <p>PostgreSQL is the project's local server (127.0.0.1:5432, database {@code test}, user {@code postgres}, trust
 * authentication; {@code -Dsluice.bench.postgres.url=jdbc:postgresql://...} points elsewhere), started with
 * {@code pg_ctlcluster} if it is down. SQLite is a file {@code audit.db} in a directory of the benchmark's own, on
 * the same disk as everything else (not a RAM disk), so that its commits cost what they cost.
 *
 * <p>Tables are named {@code bench_audit_<kind>_<random>}, created with {@link JdbcAuditSink#createSchema()} (so the
 * one-insert baseline gets exactly the audit table's columns and indexes), emptied between invocations and dropped at
 * the end.
 */
enum AuditStore {
    POSTGRESQL {
        @Override
        JdbcAuditSink sink(Path dir, String table) {
            return JdbcAuditSink.forUrl(postgresUrl()).withTable(table);
        }

        @Override
        Connection connect(Path dir) throws SQLException {
            ensurePostgresRunning();
            return DriverManager.getConnection(postgresUrl());
        }

        @Override
        String rowValues() {
            return "(?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS jsonb))";
        }

        @Override
        String stagingTableSql(String staging) {
            return "CREATE UNLOGGED TABLE \"" + staging + "\" (event_id uuid NOT NULL, event_type text NOT NULL,"
                    + " correlation_id text NOT NULL, method_name text NOT NULL, created_date timestamptz NOT NULL,"
                    + " success boolean NOT NULL, duration_ms bigint NOT NULL, item_count bigint NOT NULL,"
                    + " audit_data text NOT NULL)";
        }

        @Override
        String ceilingSql(String table, String staging) {
            return "INSERT INTO \"" + table + "\" (" + COLUMNS + ") SELECT event_id, event_type, correlation_id,"
                    + " method_name, created_date, success, duration_ms, item_count, CAST(audit_data AS jsonb) FROM \""
                    + staging + "\" " + WRITERS_UPSERT;
        }

        @Override
        void bind(PreparedStatement ps, int first, AuditEvent e) throws SQLException {
            ps.setObject(first, e.eventId());
            bindCommon(ps, first, e);
            ps.setObject(first + 4, OffsetDateTime.ofInstant(e.startedAt(), ZoneOffset.UTC));
        }

        @Override
        void clear(Connection c, String table) throws SQLException {
            try (Statement s = c.createStatement()) {
                s.execute("TRUNCATE TABLE \"" + table + "\"");
            }
        }
    },

    SQLITE {
        @Override
        JdbcAuditSink sink(Path dir, String table) {
            return JdbcAuditSink.sqlite(dir.resolve(SQLITE_FILE)).withTable(table);
        }

        @Override
        Connection connect(Path dir) throws SQLException {
            return DriverManager.getConnection(
                    "jdbc:sqlite:" + dir.resolve(SQLITE_FILE).toAbsolutePath());
        }

        @Override
        String rowValues() {
            return "(?, ?, ?, ?, ?, ?, ?, ?, ?)";
        }

        @Override
        String stagingTableSql(String staging) {
            return "CREATE TABLE \"" + staging + "\" (event_id TEXT NOT NULL, event_type TEXT NOT NULL,"
                    + " correlation_id TEXT NOT NULL, method_name TEXT NOT NULL, created_date INTEGER NOT NULL,"
                    + " success INTEGER NOT NULL, duration_ms INTEGER NOT NULL, item_count INTEGER NOT NULL,"
                    + " audit_data TEXT NOT NULL)";
        }

        /** {@code WHERE true}: SQLite's grammar needs it between a SELECT and an upsert's {@code ON CONFLICT}. */
        @Override
        String ceilingSql(String table, String staging) {
            return "INSERT INTO \"" + table + "\" (" + COLUMNS + ") SELECT " + COLUMNS + " FROM \"" + staging
                    + "\" WHERE true " + WRITERS_UPSERT;
        }

        @Override
        void bind(PreparedStatement ps, int first, AuditEvent e) throws SQLException {
            ps.setString(first, e.eventId().toString());
            bindCommon(ps, first, e);
            ps.setLong(first + 4, e.startedAt().toEpochMilli()); // the audit table's UTC epoch milliseconds
        }

        @Override
        void clear(Connection c, String table) throws SQLException {
            try (Statement s = c.createStatement()) {
                s.execute("DELETE FROM \"" + table + "\"");
            }
        }
    };

    static final String SQLITE_FILE = "audit.db";
    static final String DEFAULT_POSTGRES_URL = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";
    private static final String COLUMNS =
            "event_id, event_type, correlation_id, method_name, created_date, success, duration_ms, item_count, audit_data";

    /** A sink on {@code table} of this store, as a user makes one; the table is created on first use if missing. */
    abstract JdbcAuditSink sink(Path dir, String table);

    /**
     * The audit writer's conflict clause for finished events, as pipeline-audit's {@code Dialect} writes it for
     * PostgreSQL and SQLite: a row with the same {@code event_id} gets every value of the new one.
     */
    static final String WRITERS_UPSERT = "ON CONFLICT (event_id) DO UPDATE SET event_type = excluded.event_type,"
            + " correlation_id = excluded.correlation_id, method_name = excluded.method_name,"
            + " created_date = excluded.created_date, success = excluded.success, duration_ms = excluded.duration_ms,"
            + " item_count = excluded.item_count, audit_data = excluded.audit_data";

    /** A new connection to this store, autocommit on. */
    abstract Connection connect(Path dir) throws SQLException;

    /** The parameters of one row: the audit table's nine columns but its generated ID. */
    static final int PARAMETERS_PER_ROW = 9;

    /**
     * One row's {@value #PARAMETERS_PER_ROW} parameters in a VALUES list, the JSON parsed as the audit sink's inserts
     * parse it.
     */
    abstract String rowValues();

    /** A plain, parameterised insert of one row into the audit table: what a one-row-per-event library sends. */
    String insertSql(String table) {
        return "INSERT INTO \"" + table + "\" (" + COLUMNS + ") VALUES " + rowValues();
    }

    /**
     * One insert of {@code rows} rows into the audit table with the writer's conflict clause ({@link #WRITERS_UPSERT}):
     * the statement a hand-written batch loop sends, as the audit sink shapes its own.
     */
    String batchInsertSql(String table, int rows) {
        StringBuilder sql = new StringBuilder("INSERT INTO \"" + table + "\" (" + COLUMNS + ") VALUES ");
        for (int i = 0; i < rows; i++) {
            sql.append(i == 0 ? "" : ", ").append(rowValues());
        }
        return sql.append(' ').append(WRITERS_UPSERT).toString();
    }

    /**
     * Creates a staging table of the audit table's nine values without its indexes or constraints beyond NOT NULL:
     * {@code event_id}, times and flags in the audit table's own types, {@code audit_data} as text, as the writer
     * sends it. On PostgreSQL it is unlogged (no WAL): it is only read while measuring.
     */
    abstract String stagingTableSql(String staging);

    /** A plain insert of one staging row; {@link #bind} binds it, the JSON as the text {@code toJson} returns. */
    String stagingInsertSql(String staging) {
        return "INSERT INTO \"" + staging + "\" (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
    }

    /**
     * Every staging row into {@code table} in one statement, with the writer's conflict clause ({@link
     * #WRITERS_UPSERT}); on PostgreSQL the JSON is parsed into {@code jsonb} by the statement, as it is for the
     * writer's rows.
     */
    abstract String ceilingSql(String table, String staging);

    /**
     * Binds {@code e} to a row's {@value #PARAMETERS_PER_ROW} parameters from parameter {@code first} on ({@link #insertSql} has one row, from
     * 1), as the audit sink stores it ({@code toJson} included).
     */
    abstract void bind(PreparedStatement ps, int first, AuditEvent e) throws SQLException;

    /** Empties {@code table}. */
    abstract void clear(Connection c, String table) throws SQLException;

    /** The store named by a JMH parameter: {@code postgresql} or {@code sqlite}. */
    static AuditStore of(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }

    /** A fresh table name, {@code prefix_} and 12 hex digits: PostgreSQL keeps tables between runs. */
    static String uniqueTable(String prefix) {
        return prefix + "_" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffff_ffff_ffffL);
    }

    /** Creates {@code table} with the audit table's columns and indexes. */
    void createTable(Path dir, String table) {
        if (this == POSTGRESQL) {
            ensurePostgresRunning();
        }
        try (JdbcAuditSink sink = sink(dir, table)) {
            sink.createSchema();
        }
    }

    /** The number of rows in {@code table}. */
    static long count(Connection c, String table) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM \"" + table + "\"")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static void drop(Connection c, String table) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS \"" + table + "\"");
        }
    }

    /** A directory of the benchmark's own for SQLite's file; {@link #deleteDirectory} removes it. */
    static Path newDirectory() {
        try {
            return Files.createTempDirectory("sluice-bench-audit-");
        } catch (IOException e) {
            throw new IllegalStateException("cannot create a directory for the SQLite database: " + e, e);
        }
    }

    static void deleteDirectory(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("could not delete " + dir + ": " + e);
        }
    }

    private static void bindCommon(PreparedStatement ps, int first, AuditEvent e) throws SQLException {
        ps.setString(first + 1, e.eventType());
        ps.setString(first + 2, e.correlationId());
        ps.setString(first + 3, e.methodName());
        ps.setBoolean(first + 5, e.success());
        ps.setLong(first + 6, e.durationMs());
        ps.setLong(first + 7, e.itemCount());
        ps.setString(first + 8, e.toJson());
    }

    static String postgresUrl() {
        return System.getProperty("sluice.bench.postgres.url", DEFAULT_POSTGRES_URL);
    }

    private static volatile boolean postgresChecked;

    /** Starts the local PostgreSQL cluster if it does not answer; fails with the command to run if that fails. */
    static void ensurePostgresRunning() {
        if (postgresChecked) {
            return;
        }
        if (!postgresAnswers()) {
            startLocalPostgres();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!postgresAnswers()) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("PostgreSQL does not answer at " + postgresUrl() + "; start it with"
                            + " 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start', or point"
                            + " -Dsluice.bench.postgres.url at one");
                }
                sleepQuietly(250);
            }
        }
        postgresChecked = true;
    }

    private static boolean postgresAnswers() {
        try (Connection c = DriverManager.getConnection(postgresUrl())) {
            return c.isValid(5);
        } catch (SQLException e) {
            return false;
        }
    }

    private static void startLocalPostgres() {
        Path etc = Path.of("/etc/postgresql");
        if (!postgresUrl().equals(DEFAULT_POSTGRES_URL) || !Files.isDirectory(etc)) {
            return; // not ours to start
        }
        try (Stream<Path> versions = Files.list(etc)) {
            for (Path version : versions.toList()) {
                Process p = new ProcessBuilder(List.of(
                                "pg_ctlcluster",
                                "--skip-systemctl-redirect",
                                version.getFileName().toString(),
                                "main",
                                "start"))
                        .inheritIO()
                        .start();
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
        } catch (IOException e) {
            System.err.println("starting PostgreSQL failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for PostgreSQL", e);
        }
    }
}
