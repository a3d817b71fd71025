package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.audit.AuditEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;

/**
 * What differs between the audit stores: column types, how times, UUIDs and JSON are bound, and the schema. Every
 * statement takes its values as parameters; the only text spliced into SQL is the table name, which
 * {@link #quote(String)} accepts only once it has been checked as a plain identifier.
 *
 * <p>Writes rely on {@code INSERT … ON CONFLICT (event_id)}: {@code DO NOTHING} for a running event (a replayed or
 * late "started" row never overwrites anything), {@code DO UPDATE} for a finished one (it completes the running row;
 * written again it changes nothing). Neither aborts a batch on a duplicate, which a plain insert would do on
 * PostgreSQL.
 */
public enum Dialect {
    SQLITE {
        @Override
        List<String> schema(String table) {
            String t = quote(table);
            return List.of(
                    "CREATE TABLE IF NOT EXISTS " + t + " ("
                            + "id INTEGER PRIMARY KEY, "
                            + "event_id TEXT NOT NULL UNIQUE, "
                            + "event_type TEXT NOT NULL, "
                            + "correlation_id TEXT NOT NULL, "
                            + "method_name TEXT NOT NULL, "
                            + "created_date INTEGER NOT NULL, " // UTC epoch milliseconds: ISO text sorts wrongly
                            + "success INTEGER NOT NULL CHECK (success IN (0, 1)), "
                            + "duration_ms INTEGER NOT NULL, "
                            + "item_count INTEGER NOT NULL, "
                            + "audit_data TEXT NOT NULL CHECK (json_valid(audit_data)))",
                    "CREATE INDEX IF NOT EXISTS " + quote(table + "_correlation_id_idx") + " ON " + t
                            + " (correlation_id)",
                    "CREATE INDEX IF NOT EXISTS " + quote(table + "_created_date_idx") + " ON " + t
                            + " (created_date)");
        }

        @Override
        void prepareConnection(Connection c) throws SQLException {
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA busy_timeout = " + BUSY_TIMEOUT_MS);
            }
        }

        @Override
        void prepareDatabase(Connection c) throws SQLException {
            // WAL lets readers (the lookups, the application's own queries) go on while the writer writes; it is a
            // property of the database file and stays set.
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA journal_mode = WAL");
            }
        }

        @Override
        String jsonParameter() {
            return "?";
        }

        @Override
        String jsonColumn() {
            return "audit_data";
        }

        @Override
        void bindEventId(PreparedStatement ps, int i, AuditEvent e) throws SQLException {
            ps.setString(i, e.eventId().toString());
        }

        @Override
        void bindTime(PreparedStatement ps, int i, Instant t) throws SQLException {
            ps.setLong(i, t.toEpochMilli());
        }

        /**
         * SQLite's driver gives no SQLState, only SQLite's primary result code as the vendor code: the codes that
         * refuse a row for its values map to the standard's classes.
         */
        @Override
        public String sqlState(SQLException e) {
            if (e.getSQLState() != null) {
                return e.getSQLState();
            }
            return switch (e.getErrorCode()) {
                case SQLITE_CONSTRAINT -> "23000"; // CHECK, NOT NULL, UNIQUE, a trigger's RAISE(ABORT, …)
                case SQLITE_MISMATCH -> "22000";
                case SQLITE_TOOBIG -> "54000";
                default -> null;
            };
        }
    },

    POSTGRESQL {
        @Override
        List<String> schema(String table) {
            String t = quote(table);
            return List.of(
                    "CREATE TABLE IF NOT EXISTS " + t + " ("
                            + "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                            + "event_id uuid NOT NULL UNIQUE, "
                            + "event_type text NOT NULL, "
                            + "correlation_id text NOT NULL, "
                            + "method_name text NOT NULL, "
                            + "created_date timestamptz NOT NULL, "
                            + "success boolean NOT NULL, "
                            + "duration_ms bigint NOT NULL, "
                            + "item_count bigint NOT NULL, "
                            + "audit_data jsonb NOT NULL)",
                    "CREATE INDEX IF NOT EXISTS " + quote(table + "_correlation_id_idx") + " ON " + t
                            + " (correlation_id)",
                    "CREATE INDEX IF NOT EXISTS " + quote(table + "_created_date_idx") + " ON " + t
                            + " (created_date)");
        }

        @Override
        void lockSchema(Connection c, String table) throws SQLException {
            // CREATE … IF NOT EXISTS is not safe against a concurrent creation of the same table in PostgreSQL (a
            // unique violation in the catalogue): serialise creators on an advisory lock held until commit.
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?, ?)")) {
                ps.setInt(1, 0x51CE);
                ps.setInt(2, table.hashCode());
                ps.execute();
            }
        }

        @Override
        String jsonParameter() {
            return "CAST(? AS jsonb)";
        }

        @Override
        String jsonColumn() {
            return "audit_data::text";
        }

        @Override
        void bindEventId(PreparedStatement ps, int i, AuditEvent e) throws SQLException {
            ps.setObject(i, e.eventId());
        }

        @Override
        void bindTime(PreparedStatement ps, int i, Instant t) throws SQLException {
            ps.setObject(i, OffsetDateTime.ofInstant(t, ZoneOffset.UTC));
        }
    };

    /** How long an SQLite connection waits for another writer's lock before it fails, in milliseconds. */
    public static final int BUSY_TIMEOUT_MS = 5000;

    /** The parameters of one row: the nine columns of {@link #COLUMNS}. */
    private static final int PARAMETERS_PER_ROW = 9;

    /**
     * The most rows in one insert: 9,000 parameters, under PostgreSQL's limit of 65,535 and SQLite's of 32,766 per
     * statement.
     */
    static final int ROWS_PER_STATEMENT = 1000;

    private static final String COLUMNS =
            "event_id, event_type, correlation_id, method_name, created_date, success, duration_ms, item_count, audit_data";

    private static final int SQLITE_TOOBIG = 18;
    private static final int SQLITE_CONSTRAINT = 19;
    private static final int SQLITE_MISMATCH = 20;

    /** The SQLState of a failure of this database, or null if it has none. */
    public String sqlState(SQLException e) {
        return e.getSQLState();
    }

    /** The dialect of the database behind {@code c}. */
    public static Dialect of(Connection c) throws SQLException {
        String product = c.getMetaData().getDatabaseProductName();
        if ("SQLite".equalsIgnoreCase(product)) {
            return SQLITE;
        }
        if ("PostgreSQL".equalsIgnoreCase(product)) {
            return POSTGRESQL;
        }
        throw new SQLException("the audit trail is stored in SQLite or PostgreSQL; this DataSource connects to '"
                + Text.oneLine(product) + "'");
    }

    /** The statements that create the table, then its indexes, if they are missing. */
    abstract List<String> schema(String table);

    /** Run once per connection before it is used. */
    void prepareConnection(Connection c) throws SQLException {}

    /** Run once, outside any transaction, before the schema is created. */
    void prepareDatabase(Connection c) throws SQLException {}

    /** Run inside the schema's transaction before the statements of {@link #schema}. */
    void lockSchema(Connection c, String table) throws SQLException {}

    abstract String jsonParameter();

    /** The audit data, selected as text. */
    abstract String jsonColumn();

    abstract void bindEventId(PreparedStatement ps, int i, AuditEvent e) throws SQLException;

    abstract void bindTime(PreparedStatement ps, int i, Instant t) throws SQLException;

    /**
     * Creates the table and indexes if missing, idempotent, checking that a table that was already there has the audit
     * columns before anything is added to it.
     */
    public void createSchema(Connection c, String table) throws SQLException {
        prepareDatabase(c);
        List<String> ddl = schema(table);
        inTransaction(c, () -> {
            try (Statement s = c.createStatement()) {
                lockSchema(c, table);
                s.execute(ddl.get(0));
                try {
                    s.executeQuery("SELECT id, " + COLUMNS + " FROM " + quote(table) + " WHERE 1 = 0")
                            .close();
                } catch (SQLException e) {
                    throw new SQLException(
                            "table " + quote(table) + " exists but lacks the audit columns (id, " + COLUMNS + "): "
                                    + e.getMessage(),
                            e.getSQLState(),
                            e);
                }
                for (String index : ddl.subList(1, ddl.size())) {
                    s.execute(index);
                }
            }
        });
    }

    /** Work on a connection that may throw {@link SQLException}. */
    @FunctionalInterface
    public interface SqlWork {
        void run() throws SQLException;
    }

    /**
     * Runs {@code work} in one transaction: commit, or roll back and rethrow. The connection's auto-commit is put back
     * as it was; if that fails too (a broken connection), the first failure stays the one thrown, with the second
     * attached as suppressed.
     */
    public static void inTransaction(Connection c, SqlWork work) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        Throwable failure = null;
        try {
            work.run();
            c.commit();
        } catch (SQLException | RuntimeException e) {
            failure = e;
            rollbackQuietly(c, e);
            throw e;
        } finally {
            try {
                c.setAutoCommit(autoCommit);
            } catch (SQLException | RuntimeException restore) {
                if (failure == null) {
                    throw restore;
                }
                failure.addSuppressed(restore);
            }
        }
    }

    /** Prepares {@code c} for use: call on every connection taken from the DataSource. */
    public void prepare(Connection c) throws SQLException {
        prepareConnection(c);
    }

    /**
     * Inserts {@code events} inside the caller's transaction, in their order. A conflict on {@code event_id} leaves
     * the stored row alone, or with {@code replace} (finished events) replaces its values. The list must hold at most
     * one event per ID: PostgreSQL refuses to update the same row twice in one statement.
     *
     * <p>One multi-row insert per {@value #ROWS_PER_STATEMENT} events. In the audit benchmark on PostgreSQL it stores
     * about 1.5 times the events per second of a JDBC batch of one-row inserts (which makes the server run a
     * statement per event) or of one statement taking each column as an array.
     */
    public void insert(Connection c, String table, List<AuditEvent> events, boolean replace) throws SQLException {
        String row = "(?, ?, ?, ?, ?, ?, ?, ?, " + jsonParameter() + ")";
        for (int from = 0; from < events.size(); from += ROWS_PER_STATEMENT) {
            List<AuditEvent> rows = events.subList(from, Math.min(events.size(), from + ROWS_PER_STATEMENT));
            StringBuilder sql = new StringBuilder(200 + rows.size() * (row.length() + 2))
                    .append("INSERT INTO ")
                    .append(quote(table))
                    .append(" (")
                    .append(COLUMNS)
                    .append(") VALUES ");
            for (int i = 0; i < rows.size(); i++) {
                sql.append(i == 0 ? "" : ", ").append(row);
            }
            sql.append(' ').append(onConflict(replace));
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                for (int i = 0; i < rows.size(); i++) {
                    bind(ps, PARAMETERS_PER_ROW * i, rows.get(i));
                }
                ps.executeUpdate();
            }
        }
    }

    private static String onConflict(boolean replace) {
        return replace
                ? "ON CONFLICT (event_id) DO UPDATE SET event_type = excluded.event_type, "
                        + "correlation_id = excluded.correlation_id, method_name = excluded.method_name, "
                        + "created_date = excluded.created_date, success = excluded.success, "
                        + "duration_ms = excluded.duration_ms, item_count = excluded.item_count, "
                        + "audit_data = excluded.audit_data"
                : "ON CONFLICT (event_id) DO NOTHING";
    }

    public String selectByCorrelationIdSql(String table) {
        return "SELECT " + jsonColumn() + " FROM " + quote(table)
                + " WHERE correlation_id = ? ORDER BY created_date, id";
    }

    public String selectByTypeSql(String table) {
        return "SELECT " + jsonColumn() + " FROM " + quote(table)
                + " WHERE event_type = ? AND created_date >= ? AND created_date < ? ORDER BY created_date, id LIMIT ?";
    }

    /** Binds the event to the parameters after {@code offset}: one row of {@link #insert}. */
    private void bind(PreparedStatement ps, int offset, AuditEvent e) throws SQLException {
        bindEventId(ps, offset + 1, e);
        ps.setString(offset + 2, e.eventType());
        ps.setString(offset + 3, e.correlationId());
        ps.setString(offset + 4, e.methodName());
        bindTime(ps, offset + 5, e.startedAt());
        ps.setBoolean(offset + 6, e.success());
        ps.setLong(offset + 7, e.durationMs());
        ps.setLong(offset + 8, e.itemCount());
        ps.setString(offset + 9, e.toJson());
    }

    /** Binds the parameters of {@link #selectByTypeSql}. */
    public void bindTypeQuery(PreparedStatement ps, String eventType, Instant from, Instant to, int limit)
            throws SQLException {
        ps.setString(1, eventType);
        bindTime(ps, 2, from);
        bindTime(ps, 3, to);
        ps.setInt(4, limit);
    }

    /**
     * The identifier in double quotes. Only for names already checked to be lowercase letters, digits and
     * underscores ({@link TableName}); refuses anything else, as a second line of defence.
     */
    static String quote(String identifier) {
        if (!TableName.isPlainIdentifier(identifier)) {
            throw new IllegalArgumentException("refusing to quote '" + Text.oneLine(identifier) + "' as an identifier");
        }
        return '"' + identifier + '"';
    }

    static void rollbackQuietly(Connection c, Throwable failure) {
        try {
            c.rollback();
        } catch (SQLException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }
}
