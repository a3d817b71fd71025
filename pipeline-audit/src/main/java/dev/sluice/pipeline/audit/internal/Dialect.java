package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.audit.AuditEvent;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What differs between the audit stores: column types, identifier quotes, how times, UUIDs and JSON are bound, how a
 * conflict on {@code event_id} is resolved, and the schema. Every statement takes its values as parameters; the only
 * text spliced into SQL is the table's (and schema's) name, which {@link #quote(String)} accepts only once it has been
 * checked as a plain identifier.
 *
 * <p>The schema is the dialect's DDL file, {@code db/sluice-audit/<dialect>/V1__create_audit_logs.sql} on the class
 * path, with the table's own name in place of {@code audit_logs}: the statements a sink runs are the ones a DBA
 * applies by hand. The file's first statement creates the table, the others its indexes.
 *
 * <p>A running event is inserted so that a conflict on {@code event_id} leaves the stored row alone (a replayed or
 * late "started" row never overwrites anything), a finished one so that the conflict replaces the row's values (it
 * completes the running row; written again it changes nothing). Neither aborts a batch on a duplicate, which a plain
 * insert would do.
 */
public enum Dialect {
    SQLITE("SQLite", "sqlite", '"') {
        @Override
        void prepareConnection(Connection c) throws SQLException {
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA busy_timeout = " + BUSY_TIMEOUT_MS);
            }
        }

        /**
         * WAL lets readers (the lookups, the application's own queries) go on while the writer writes; it is a
         * property of the database file and stays set. Switching needs the file to itself, and SQLite answers a
         * switch that meets another connection's lock with {@code SQLITE_BUSY} at once, without waiting out the
         * busy timeout (several sinks opening one new file do that): the switch is tried again until the file is
         * in WAL mode, for at most the busy timeout.
         */
        @Override
        void prepareDatabase(Connection c) throws SQLException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BUSY_TIMEOUT_MS);
            try (Statement s = c.createStatement()) {
                while (true) {
                    try {
                        if (!isWal(s)) {
                            s.execute("PRAGMA journal_mode = WAL");
                        }
                        return;
                    } catch (SQLException e) {
                        if ((e.getErrorCode() & 0xff) != SQLITE_BUSY || System.nanoTime() - deadline > 0) {
                            throw e;
                        }
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
                        if (Thread.currentThread().isInterrupted()) {
                            throw e;
                        }
                    }
                }
            }
        }

        private static boolean isWal(Statement s) throws SQLException {
            try (ResultSet rs = s.executeQuery("PRAGMA journal_mode")) {
                return rs.next() && "wal".equalsIgnoreCase(rs.getString(1));
            }
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

    POSTGRESQL("PostgreSQL", "postgresql", '"') {
        @Override
        void lockSchema(Connection c, TableName table) throws SQLException {
            // CREATE … IF NOT EXISTS is not safe against a concurrent creation of the same table in PostgreSQL (a
            // unique violation in the catalogue): serialise creators on an advisory lock held until commit.
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?, ?)")) {
                ps.setInt(1, 0x51CE);
                ps.setInt(2, table.toString().hashCode());
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
    },

    /** MariaDB, and MySQL, which speaks the same SQL for everything the audit trail does. */
    MARIADB("MariaDB", "mariadb", '`') {
        @Override
        String onConflict(boolean replace) {
            if (!replace) {
                return "ON DUPLICATE KEY UPDATE id = id"; // INSERT IGNORE would also turn refusals into warnings
            }
            StringBuilder sql = new StringBuilder("ON DUPLICATE KEY UPDATE ");
            for (String column : UPDATED_COLUMNS) {
                sql.append(column.equals("event_type") ? "" : ", ")
                        .append(column)
                        .append(" = VALUES(")
                        .append(column)
                        .append(')');
            }
            return sql.toString();
        }

        /**
         * The binary collation pads with spaces, as SQL's default does ({@code 'a' = 'a '}); an equal length makes
         * the match exact.
         */
        @Override
        String equalTo(String column) {
            return column + " = ? AND LENGTH(" + column + ") = LENGTH(?)";
        }

        @Override
        int bindEqualTo(PreparedStatement ps, int i, String value) throws SQLException {
            ps.setString(i, value);
            ps.setString(i + 1, value);
            return i + 2;
        }

        @Override
        void bindEventId(PreparedStatement ps, int i, AuditEvent e) throws SQLException {
            ps.setString(i, e.eventId().toString());
        }

        /** {@code DATETIME(3)} holds the UTC wall-clock time; the driver sends a {@code LocalDateTime} as it is. */
        @Override
        void bindTime(PreparedStatement ps, int i, Instant t) throws SQLException {
            ps.setObject(i, LocalDateTime.ofInstant(t, ZoneOffset.UTC));
        }
    };

    /** How long an SQLite connection waits for another writer's lock before it fails, in milliseconds. */
    public static final int BUSY_TIMEOUT_MS = 5000;

    /** The table name in the shipped DDL files, replaced by the sink's own. */
    private static final String FILE_TABLE = "audit_logs";

    /** The parameters of one row: the nine columns of {@link #COLUMNS}. */
    private static final int PARAMETERS_PER_ROW = 9;

    /**
     * The most rows in one insert: 9,000 parameters, under PostgreSQL's limit of 65,535, SQLite's of 32,766 and
     * MariaDB's of 65,535 per statement.
     */
    static final int ROWS_PER_STATEMENT = 1000;

    /**
     * An insert ends early once its rows' JSON reaches this many characters, so that a statement stays well inside
     * MariaDB's {@code max_allowed_packet} (16 MiB by default) however large the events.
     */
    static final int CHARS_PER_STATEMENT = 4 << 20;

    private static final String COLUMNS =
            "event_id, event_type, correlation_id, method_name, created_date, success, duration_ms, item_count, audit_data";
    private static final List<String> UPDATED_COLUMNS = List.of(
            "event_type",
            "correlation_id",
            "method_name",
            "created_date",
            "success",
            "duration_ms",
            "item_count",
            "audit_data");

    private static final int SQLITE_TOOBIG = 18;
    private static final int SQLITE_BUSY = 5;
    private static final int SQLITE_CONSTRAINT = 19;
    private static final int SQLITE_MISMATCH = 20;

    private final String displayName;
    private final String folder;
    private final char quote;
    private final Pattern fileNames;
    private volatile List<String> fileStatements; // read once, on first use

    Dialect(String displayName, String folder, char quote) {
        this.displayName = displayName;
        this.folder = folder;
        this.quote = quote;
        String q = Pattern.quote(String.valueOf(quote));
        this.fileNames = Pattern.compile(q + FILE_TABLE + "(_[a-z_]+)?" + q);
    }

    /** The database's name as people write it: {@code SQLite}, {@code PostgreSQL}, {@code MariaDB}. */
    public String displayName() {
        return displayName;
    }

    /**
     * The class-path resource that holds this dialect's DDL for table {@code audit_logs}.
     *
     * @return a path such as {@code db/sluice-audit/postgresql/V1__create_audit_logs.sql}
     */
    public String ddlResource() {
        return "db/sluice-audit/" + folder + "/V1__create_audit_logs.sql";
    }

    /** The SQLState of a failure of this database, or null if it has none. */
    public String sqlState(SQLException e) {
        return e.getSQLState();
    }

    /** The dialect of the database behind {@code c}. */
    public static Dialect of(Connection c) throws SQLException {
        String product = c.getMetaData().getDatabaseProductName();
        for (Dialect d : values()) {
            if (d.displayName.equalsIgnoreCase(product)) {
                return d;
            }
        }
        if ("MySQL".equalsIgnoreCase(product)) {
            return MARIADB;
        }
        throw new SQLException("the audit trail is stored in SQLite, PostgreSQL, MariaDB or MySQL; this DataSource "
                + "connects to '" + Text.oneLine(product) + "'");
    }

    /**
     * The statements that create the table, then its indexes, if they are missing: the DDL file's, for {@code table}.
     */
    List<String> schema(TableName table) {
        List<String> statements = new ArrayList<>();
        for (String s : fileStatements()) {
            Matcher m = fileNames.matcher(s);
            statements.add(m.replaceAll(r -> Matcher.quoteReplacement(
                    r.group(1) == null ? qualified(table) : quote(table.table() + r.group(1)))));
        }
        return statements;
    }

    private List<String> fileStatements() {
        List<String> statements = fileStatements;
        if (statements == null) {
            statements = parse(readDdl());
            fileStatements = statements;
        }
        return statements;
    }

    private String readDdl() {
        try (InputStream in = Dialect.class.getResourceAsStream("/" + ddlResource())) {
            if (in == null) {
                throw new IllegalStateException("the resource " + ddlResource() + " is missing from pipeline-audit");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + ddlResource(), e);
        }
    }

    /** The statements of a DDL file: comment lines dropped, each statement ending with a semicolon at a line's end. */
    static List<String> parse(String file) {
        List<String> statements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : file.split("\n")) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("--")) {
                continue;
            }
            current.append(current.isEmpty() ? "" : "\n").append(line.stripTrailing());
            if (trimmed.endsWith(";")) {
                current.setLength(current.length() - 1);
                statements.add(current.toString());
                current.setLength(0);
            }
        }
        if (!current.isEmpty()) {
            statements.add(current.toString());
        }
        return List.copyOf(statements);
    }

    /** Run once per connection before it is used. */
    void prepareConnection(Connection c) throws SQLException {}

    /** Run once, outside any transaction, before the schema is created. */
    void prepareDatabase(Connection c) throws SQLException {}

    /** Run inside the schema's transaction before the statements of {@link #schema}. */
    void lockSchema(Connection c, TableName table) throws SQLException {}

    /** The placeholder of the JSON column in an insert. */
    String jsonParameter() {
        return "?";
    }

    /** The audit data, selected as text. */
    String jsonColumn() {
        return "audit_data";
    }

    abstract void bindEventId(PreparedStatement ps, int i, AuditEvent e) throws SQLException;

    abstract void bindTime(PreparedStatement ps, int i, Instant t) throws SQLException;

    /** What an insert does on a conflict on {@code event_id}: keep the row, or with {@code replace} replace it. */
    String onConflict(boolean replace) {
        if (!replace) {
            return "ON CONFLICT (event_id) DO NOTHING";
        }
        StringBuilder sql = new StringBuilder("ON CONFLICT (event_id) DO UPDATE SET ");
        for (String column : UPDATED_COLUMNS) {
            sql.append(column.equals("event_type") ? "" : ", ")
                    .append(column)
                    .append(" = excluded.")
                    .append(column);
        }
        return sql.toString();
    }

    /** A condition that {@code column} equals a text parameter exactly; {@link #bindEqualTo} binds it. */
    String equalTo(String column) {
        return column + " = ?";
    }

    /**
     * Binds {@code value} to the parameters of {@link #equalTo} from {@code i}.
     *
     * @return the index of the next parameter
     */
    int bindEqualTo(PreparedStatement ps, int i, String value) throws SQLException {
        ps.setString(i, value);
        return i + 1;
    }

    /** {@code table} as SQL: quoted, and qualified by its schema if it has one. */
    public String qualified(TableName table) {
        return table.schema() == null ? quote(table.table()) : quote(table.schema()) + "." + quote(table.table());
    }

    /**
     * Creates the table and indexes if missing, idempotent, checking that a table that was already there has the audit
     * columns before anything is added to it.
     */
    public void createSchema(Connection c, TableName table) throws SQLException {
        prepareDatabase(c);
        List<String> ddl = schema(table);
        inTransaction(c, () -> {
            try (Statement s = c.createStatement()) {
                lockSchema(c, table);
                s.execute(ddl.get(0));
                checkColumns(s, table, false);
                for (String index : ddl.subList(1, ddl.size())) {
                    s.execute(index);
                }
            }
        });
    }

    /**
     * Checks, without DDL, that the table exists with the audit columns: for a sink whose table was created
     * beforehand from the DDL file.
     */
    public void verifySchema(Connection c, TableName table) throws SQLException {
        inTransaction(c, () -> {
            try (Statement s = c.createStatement()) {
                checkColumns(s, table, true);
            }
        });
    }

    private void checkColumns(Statement s, TableName table, boolean mayBeMissing) throws SQLException {
        try {
            s.executeQuery("SELECT id, " + COLUMNS + " FROM " + qualified(table) + " WHERE 1 = 0")
                    .close();
        } catch (SQLException e) {
            String what = mayBeMissing
                    ? "is missing or lacks the audit columns (id, " + COLUMNS + "); create it from " + ddlResource()
                            + " or let the sink create it (withSchemaCreation(true))"
                    : "exists but lacks the audit columns (id, " + COLUMNS + ")";
            throw new SQLException(
                    "table " + qualified(table) + " " + what + ": " + e.getMessage(), e.getSQLState(), e);
        }
    }

    /** Work on a connection that may throw {@link SQLException}. */
    @FunctionalInterface
    public interface SqlWork {
        /**
         * Does the work.
         *
         * @throws SQLException if the database fails
         */
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
        runThen(
                () -> {
                    try {
                        work.run();
                        c.commit();
                    } catch (SQLException | RuntimeException | Error e) {
                        // An Error too: restoring auto-commit next would otherwise commit the part of the work done.
                        rollbackQuietly(c, e);
                        throw e;
                    }
                },
                () -> c.setAutoCommit(autoCommit));
    }

    /**
     * Runs {@code work}, then {@code after} whatever happened. A failure of {@code work} is the one thrown, with one of
     * {@code after} attached as suppressed; {@code after}'s failure is thrown only if {@code work} succeeded.
     */
    private static void runThen(SqlWork work, SqlWork after) throws SQLException {
        try {
            work.run();
        } catch (SQLException | RuntimeException | Error e) {
            try {
                after.run();
            } catch (SQLException | RuntimeException second) {
                e.addSuppressed(second);
            }
            throw e;
        }
        after.run();
    }

    /** Prepares {@code c} for use: call on every connection taken from the DataSource. */
    public void prepare(Connection c) throws SQLException {
        prepareConnection(c);
    }

    /**
     * Where {@link #insert} gets its statements: {@link #FRESH} prepares each anew and closes it after use; a
     * {@link WriteConnection} keeps the last few open on its connection, so that a writer sending batches of one size
     * prepares that statement once.
     */
    public interface Statements {
        /**
         * The statement whose text is {@code sql}; {@code key} tells statements apart as their texts do.
         *
         * @throws SQLException if the database refuses to prepare it
         */
        PreparedStatement prepare(Connection c, Object key, Supplier<String> sql) throws SQLException;

        /**
         * Done with {@code ps}, which this closes unless it keeps it.
         *
         * @throws SQLException if closing fails
         */
        void release(PreparedStatement ps) throws SQLException;
    }

    /** Statements prepared for one use and closed after it. */
    public static final Statements FRESH = new Statements() {
        @Override
        public PreparedStatement prepare(Connection c, Object key, Supplier<String> sql) throws SQLException {
            return c.prepareStatement(sql.get());
        }

        @Override
        public void release(PreparedStatement ps) throws SQLException {
            ps.close();
        }
    };

    /** What tells apart the statements {@link #insert} prepares: their texts differ by these alone. */
    private record InsertKey(Dialect dialect, TableName table, int rows, boolean replace) {}

    /**
     * Inserts {@code events} inside the caller's transaction, in their order. A conflict on {@code event_id} leaves
     * the stored row alone, or with {@code replace} (finished events) replaces its values. The list must hold at most
     * one event per ID: PostgreSQL refuses to update the same row twice in one statement.
     *
     * <p>One multi-row insert per {@value #ROWS_PER_STATEMENT} events (fewer if their JSON is large): a server runs
     * one statement for many rows, where a JDBC batch of one-row inserts makes it run one per event (the audit
     * benchmark, {@code AuditWriterBenchmark}, compares the two). Statements come from {@code statements}.
     */
    public void insert(Connection c, TableName table, List<AuditEvent> events, boolean replace, Statements statements)
            throws SQLException {
        int from = 0;
        while (from < events.size()) {
            int to = from;
            long chars = 0;
            List<String> json = new ArrayList<>();
            while (to < events.size()
                    && to - from < ROWS_PER_STATEMENT
                    && (to == from || chars < CHARS_PER_STATEMENT)) {
                String j = events.get(to).toJson();
                json.add(j);
                chars += j.length();
                to++;
            }
            int first = from;
            int rows = to - from;
            PreparedStatement ps = statements.prepare(
                    c, new InsertKey(this, table, rows, replace), () -> insertSql(table, rows, replace));
            runThen(
                    () -> {
                        for (int i = 0; i < rows; i++) {
                            bind(ps, PARAMETERS_PER_ROW * i, events.get(first + i), json.get(i));
                        }
                        ps.executeUpdate();
                    },
                    () -> statements.release(ps));
            from = to;
        }
    }

    private String insertSql(TableName table, int rows, boolean replace) {
        String row = "(?, ?, ?, ?, ?, ?, ?, ?, " + jsonParameter() + ")";
        StringBuilder sql = new StringBuilder(200 + rows * (row.length() + 2))
                .append("INSERT INTO ")
                .append(qualified(table))
                .append(" (")
                .append(COLUMNS)
                .append(") VALUES ");
        for (int i = 0; i < rows; i++) {
            sql.append(i == 0 ? "" : ", ").append(row);
        }
        return sql.append(' ').append(onConflict(replace)).toString();
    }

    /** The lookup by correlation ID; {@link #bindCorrelationQuery} binds it. */
    public String selectByCorrelationIdSql(TableName table) {
        return "SELECT " + jsonColumn() + " FROM " + qualified(table) + " WHERE " + equalTo("correlation_id")
                + " ORDER BY created_date, id";
    }

    /** Binds the parameters of {@link #selectByCorrelationIdSql}. */
    public void bindCorrelationQuery(PreparedStatement ps, String correlationId) throws SQLException {
        bindEqualTo(ps, 1, correlationId);
    }

    /** The lookup by type and an inclusive range of start times; {@link #bindTypeQuery} binds it. */
    public String selectByTypeSql(TableName table) {
        return "SELECT " + jsonColumn() + " FROM " + qualified(table) + " WHERE " + equalTo("event_type")
                + " AND created_date >= ? AND created_date <= ? ORDER BY created_date, id LIMIT ?";
    }

    /** Binds the event's values to the parameters after {@code offset}: one row of {@link #insert}. */
    private void bind(PreparedStatement ps, int offset, AuditEvent e, String json) throws SQLException {
        bindEventId(ps, offset + 1, e);
        ps.setString(offset + 2, e.eventType());
        ps.setString(offset + 3, e.correlationId());
        ps.setString(offset + 4, e.methodName());
        bindTime(ps, offset + 5, e.startedAt());
        ps.setBoolean(offset + 6, e.success());
        ps.setLong(offset + 7, e.durationMs());
        ps.setLong(offset + 8, e.itemCount());
        ps.setString(offset + 9, json);
    }

    /**
     * Binds the parameters of {@link #selectByTypeSql}: times the store can hold ({@code Lookups.storedMillis}), both
     * included.
     */
    public void bindTypeQuery(PreparedStatement ps, String eventType, Instant first, Instant last, int limit)
            throws SQLException {
        int i = bindEqualTo(ps, 1, eventType);
        bindTime(ps, i, first);
        bindTime(ps, i + 1, last);
        ps.setInt(i + 2, limit);
    }

    /**
     * The identifier in this dialect's quotes. Only for names already checked to be lowercase letters, digits and
     * underscores ({@link TableName}); refuses anything else, as a second line of defence.
     */
    String quote(String identifier) {
        if (!TableName.isPlainIdentifier(identifier)) {
            throw new IllegalArgumentException("refusing to quote '" + Text.oneLine(identifier) + "' as an identifier");
        }
        return quote + identifier + quote;
    }

    static void rollbackQuietly(Connection c, Throwable failure) {
        try {
            c.rollback();
        } catch (SQLException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }
}
