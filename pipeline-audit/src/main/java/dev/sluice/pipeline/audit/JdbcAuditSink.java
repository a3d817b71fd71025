package dev.sluice.pipeline.audit;

import dev.sluice.pipeline.audit.internal.AuditJson;
import dev.sluice.pipeline.audit.internal.Dialect;
import dev.sluice.pipeline.audit.internal.DriverManagerDataSource;
import dev.sluice.pipeline.audit.internal.Lookups;
import dev.sluice.pipeline.audit.internal.TableName;
import dev.sluice.pipeline.audit.internal.WriteConnection;
import dev.sluice.pipeline.audit.internal.WriteConnections;
import dev.sluice.pipeline.internal.check.Require;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * Stores audit events in a table of SQLite (the embedded default), PostgreSQL, or MariaDB or MySQL, and reads them
 * back. The database is recognised from the connection; no driver class is named here, and none comes with this
 * module: add {@code org.xerial:sqlite-jdbc}, {@code org.postgresql:postgresql} or
 * {@code org.mariadb.jdbc:mariadb-java-client} (MariaDB and MySQL) to your build.
 *
 * <h2>The table</h2>
 * {@value #DEFAULT_TABLE} unless {@link #withTable} names another, in the connection's current schema unless
 * {@link #withSchema} names one. The sink creates it with its indexes on first use if it is missing (never altering or
 * dropping it), running the statements of the DDL file this module ships for the database,
 * {@code db/sluice-audit/<sqlite|postgresql|mariadb>/V1__create_audit_logs.sql} on the class path; with
 * {@link #withSchemaCreation withSchemaCreation(false)} it runs no DDL and uses a table created beforehand from that
 * file (by a DBA, Flyway or Liquibase).
 * <pre>
 * column         PostgreSQL / MariaDB / SQLite
 * id             bigint identity / bigint auto_increment / INTEGER PRIMARY KEY
 * event_id       uuid / char(36) / TEXT, unique     one row per event: writes are idempotent
 * event_type     text / varchar(512) / TEXT         gRPC:Streaming, Pipeline:Run, …
 * correlation_id text / varchar(512) / TEXT         indexed
 * method_name    text / varchar(512) / TEXT
 * created_date   timestamptz / datetime(3) / INTEGER   when the operation started, UTC (SQLite: epoch ms); indexed
 * success        boolean / boolean / INTEGER 0|1
 * duration_ms    bigint
 * item_count     bigint
 * audit_data     jsonb / json / TEXT CHECK (json_valid(audit_data))   the whole event, {@link AuditEvent#toJson()}
 * </pre>
 * The JSON is queryable with the database's own operators, for instance
 * {@code audit_data->'additionalData'->>'userId'} on PostgreSQL, {@code JSON_VALUE(audit_data,
 * '$.additionalData.userId')} on MariaDB and MySQL, {@code audit_data ->> '$.additionalData.userId'} on SQLite.
 *
 * <h2>Writing</h2>
 * {@link #write} writes the batch in one transaction and commits, as multi-row inserts of up to 1,000 events each.
 * A conflict on {@code event_id} never aborts the batch: PostgreSQL and SQLite resolve it with
 * {@code ON CONFLICT (event_id)}, MariaDB and MySQL with {@code ON DUPLICATE KEY UPDATE}, keeping the row for a
 * running event and replacing it for a finished one. Every value goes in as a statement parameter; the table and
 * schema names, the only identifiers spliced into SQL, must be plain lowercase identifiers. On SQLite each connection
 * gets a busy timeout of {@value dev.sluice.pipeline.audit.internal.Dialect#BUSY_TIMEOUT_MS} ms and the database WAL
 * mode, so that an application sharing the file can read while the audit trail writes.
 *
 * <h2>Connections</h2>
 * A sink made by {@link #forDataSource} takes a connection from the DataSource for each batch and lookup and gives it
 * back: give it a pool. A sink made by {@link #sqlite} or {@link #forUrl} opens its own connections: it keeps one open
 * for writing per write running at once, up to {@value #MAX_WRITE_CONNECTIONS} (one, used in turn, on SQLite, which
 * takes one writer at a time), each reopened after a failure and closed by {@link #close()}, with the last four batch
 * inserts it used prepared on it (on the server too, once the driver prepares them there: count them against a limit
 * such as MySQL's {@code max_prepared_stmt_count}), and opens one per lookup. An {@link AuditWriter} with one writer
 * thread (the default) therefore keeps one, and with {@link AuditWriter.Builder#writeThreads writeThreads(n)} n.
 * For SQLite this matters beyond the cost of connecting: closing the last connection to a WAL database copies the
 * whole log into the database file, so a sink on a bare SQLite DataSource would do that after every batch; prefer
 * {@link #sqlite}.
 *
 * <p>Thread-safe: any number of threads may write and look up at once (writes beyond the kept connections wait for
 * one).
 * Every method blocks on the database. SQLite's driver runs native code that pins a virtual thread to its carrier
 * while it runs, which is why an {@link AuditWriter} writes from a platform thread by default. Failures surface as
 * {@link AuditStoreException}, with the database's SQLState (for SQLite, whose driver gives none, the class of its
 * result code: a constraint, a trigger's {@code RAISE} give 23000, a value too big 54000, a type mismatch 22000).
 *
 * @since 0.1
 */
public final class JdbcAuditSink implements AuditSink, AuditLookup {

    /** The table used unless {@link #withTable} says otherwise. */
    public static final String DEFAULT_TABLE = "audit_logs";

    /** The most connections a sink made by {@link #forUrl} keeps open for writing. */
    public static final int MAX_WRITE_CONNECTIONS = 16;

    private final DataSource dataSource;
    private final TableName table;
    private final boolean createsSchema;
    private final WriteConnections writeConnections; // null when the DataSource is the caller's (a pool, typically)
    private volatile Dialect dialect; // known after the first connection
    private volatile boolean schemaReady;

    /** @param keptForWriting the most connections kept open for writing; 0 for a DataSource of the caller's */
    private JdbcAuditSink(DataSource dataSource, TableName table, boolean createsSchema, int keptForWriting) {
        this.dataSource = dataSource;
        this.table = table;
        this.createsSchema = createsSchema;
        this.writeConnections = keptForWriting > 0 ? new WriteConnections(dataSource, keptForWriting) : null;
    }

    /**
     * A sink on the SQLite database in {@code file}, created if missing (its directory must exist). Needs the driver
     * {@code org.xerial:sqlite-jdbc} on the class path, which this module does not bring. Keeps one connection open
     * for writing (see the class comment); connects only when first used.
     *
     * @param file the database file
     * @return a sink on that file
     * @since 0.1
     * @throws IllegalArgumentException if the file's directory does not exist or the path holds a {@code ?}
     */
    public static JdbcAuditSink sqlite(Path file) {
        Require.nonNull(file, "file");
        Path absolute = file.toAbsolutePath();
        Require.argument(
                absolute.toString().indexOf('?') < 0,
                "file",
                "not contain '?' (the SQLite driver reads what follows as options)",
                file);
        Path dir = absolute.getParent();
        if (dir != null && !Files.isDirectory(dir)) { // the value is built only when it is shown
            Require.argument(false, "file", "be in an existing directory", file + " (no directory " + dir + ")");
        }
        return new JdbcAuditSink(
                new DriverManagerDataSource("jdbc:sqlite:" + absolute), TableName.of(DEFAULT_TABLE), true, 1);
    }

    /**
     * A sink that connects with {@code jdbcUrl} through {@link java.sql.DriverManager}: a connection kept open for
     * writing per write running at once (see the class comment), one opened per lookup. The URL is never logged (it
     * may hold a password).
     *
     * @param jdbcUrl the JDBC URL, which may hold credentials
     * @return a sink on that database
     * @since 0.1
     * @throws IllegalArgumentException if the URL does not start with {@code jdbc:}
     */
    public static JdbcAuditSink forUrl(String jdbcUrl) {
        Require.nonNull(jdbcUrl, "jdbcUrl");
        if (!jdbcUrl.startsWith("jdbc:")) { // the value shown is the scheme alone: a URL may hold a password
            Require.argument(
                    false,
                    "jdbcUrl",
                    "start with 'jdbc:'",
                    "a URL starting '" + DriverManagerDataSource.scheme(jdbcUrl) + "'");
        }
        int kept = jdbcUrl.startsWith("jdbc:sqlite:") ? 1 : MAX_WRITE_CONNECTIONS;
        return new JdbcAuditSink(new DriverManagerDataSource(jdbcUrl), TableName.of(DEFAULT_TABLE), true, kept);
    }

    /**
     * A sink that takes its connections from {@code dataSource} (a pool, typically), one per batch and lookup.
     *
     * @param dataSource the DataSource, typically a pool
     * @return a sink on that DataSource
     * @since 0.1
     */
    public static JdbcAuditSink forDataSource(DataSource dataSource) {
        return new JdbcAuditSink(Require.nonNull(dataSource, "dataSource"), TableName.of(DEFAULT_TABLE), true, 0);
    }

    /**
     * This sink, storing in table {@code table} instead (in the same schema).
     *
     * @param table the table's name
     * @return a new sink on the same connections
     * @throws IllegalArgumentException unless {@code table} is 1 to 40 lowercase letters, digits or underscores, not
     *     starting with a digit
     * @since 0.1
     */
    public JdbcAuditSink withTable(String table) {
        TableName t = this.table.schema() == null
                ? TableName.of(table)
                : TableName.of(table).inSchema(this.table.schema());
        return new JdbcAuditSink(dataSource, t, createsSchema, keptForWriting());
    }

    /**
     * This sink, storing its table in {@code schema}: a PostgreSQL schema, or a MariaDB or MySQL database. Without it,
     * the table lives in the connection's current schema ({@code search_path}, the database of the URL). SQLite has
     * no schemas: a sink on SQLite with one fails at its first use.
     *
     * @param schema the schema's name
     * @return a new sink on the same connections
     * @throws IllegalArgumentException unless {@code schema} is 1 to 40 lowercase letters, digits or underscores, not
     *     starting with a digit
     * @since 0.1
     */
    public JdbcAuditSink withSchema(String schema) {
        return new JdbcAuditSink(dataSource, table.inSchema(schema), createsSchema, keptForWriting());
    }

    /**
     * This sink, creating its table on first use ({@code true}, the default) or never ({@code false}). Without
     * creation the sink runs no DDL: it suits a database role that may only read and write rows, on a table created
     * beforehand from the DDL file this module ships for each database
     * ({@code db/sluice-audit/<postgresql|mariadb|sqlite>/V1__create_audit_logs.sql}, usable by Flyway or
     * Liquibase). Its first use then checks that the table has the audit columns, and fails naming that file if not.
     *
     * @param create whether the sink creates the table and its indexes when they are missing
     * @return a new sink on the same connections
     * @since 0.1
     */
    public JdbcAuditSink withSchemaCreation(boolean create) {
        return new JdbcAuditSink(dataSource, table, create, keptForWriting());
    }

    /**
     * The table's name, qualified by its schema if it has one ({@code audit.audit_logs}).
     *
     * @return the table's name
     * @since 0.1
     */
    public String table() {
        return table.toString();
    }

    /**
     * Creates the table and its indexes if they are missing, and checks that the table has the audit columns; with
     * {@link #withSchemaCreation withSchemaCreation(false)}, only checks. Idempotent, safe to call from several
     * processes at once; otherwise done on first use. Call it at start-up to find a configuration error at once rather
     * than in the writer's log. Blocks on the database.
     *
     * @throws AuditStoreException if the database cannot be reached, is not one the sink knows, or holds no table of
     *     that name with the audit columns (and may not create one)
     * @since 0.1
     */
    public void createSchema() {
        try (Connection c = connect()) {
            Dialect d = dialect;
            if (createsSchema) {
                d.createSchema(c, table);
            } else {
                d.verifySchema(c, table);
            }
            schemaReady = true;
        } catch (SQLException e) {
            throw failure("creating the audit table", e);
        }
    }

    @Override
    public void write(List<AuditEvent> events) {
        Require.nonNull(events, "events");
        if (events.isEmpty()) {
            return;
        }
        List<AuditEvent> running = new ArrayList<>();
        List<AuditEvent> finished = new ArrayList<>();
        for (AuditEvent e : lastPerEventId(events)) {
            (e.running() ? running : finished).add(e);
        }
        try {
            if (writeConnections == null) {
                try (Connection c = connectWithSchema()) {
                    writeTransaction(c, running, finished, Dialect.FRESH);
                }
                return;
            }
            WriteConnection w;
            try {
                w = writeConnections.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the caller's to act on: an AuditWriter's closer gave up
                throw new AuditStoreException(
                        "interrupted while waiting for a connection to write " + events.size() + " audit events to "
                                + table,
                        e);
            }
            try {
                if (w.isFresh()) {
                    Connection c = w.get();
                    prepare(c);
                    ensureSchema(c);
                }
                writeTransaction(w.get(), running, finished, w);
            } catch (SQLException | RuntimeException | Error e) {
                w.discard(); // whatever went wrong, this connection's next batch starts on a fresh one
                throw e;
            } finally {
                writeConnections.release(w);
            }
        } catch (SQLException e) {
            throw failure("writing " + events.size() + " audit events", e);
        }
    }

    private void writeTransaction(
            Connection c, List<AuditEvent> running, List<AuditEvent> finished, Dialect.Statements statements)
            throws SQLException {
        Dialect d = dialect;
        Dialect.inTransaction(c, () -> {
            d.insert(c, table, running, false, statements);
            d.insert(c, table, finished, true, statements);
        });
    }

    /**
     * One event per ID, keeping the order of first appearance: a finished event wins over a running one, a later
     * finished one over an earlier. A multi-row insert would otherwise meet the same ID twice, which PostgreSQL's
     * {@code ON CONFLICT DO UPDATE} refuses.
     */
    private static List<AuditEvent> lastPerEventId(List<AuditEvent> events) {
        Map<UUID, AuditEvent> byId = new LinkedHashMap<>();
        for (AuditEvent e : events) {
            Objects.requireNonNull(e, "events must not contain null");
            byId.merge(e.eventId(), e, (old, now) -> now.running() && !old.running() ? old : now);
        }
        return byId.size() == events.size() ? events : new ArrayList<>(byId.values());
    }

    @Override
    public List<AuditEvent> findByCorrelationId(String correlationId) {
        Require.nonNull(correlationId, "correlationId");
        try (Connection c = connectWithSchema();
                PreparedStatement ps = c.prepareStatement(dialect.selectByCorrelationIdSql(table))) {
            dialect.bindCorrelationQuery(ps, correlationId);
            return read(ps);
        } catch (SQLException e) {
            throw failure("looking up audit events by correlation ID", e);
        }
    }

    @Override
    public List<AuditEvent> findByType(String eventType, Instant from, Instant to, int limit) {
        Lookups.checkTypeQuery(eventType, from, to, limit);
        Instant[] range = Lookups.storedMillis(from, to);
        if (range == null) {
            return List.of();
        }
        try (Connection c = connectWithSchema();
                PreparedStatement ps = c.prepareStatement(dialect.selectByTypeSql(table))) {
            dialect.bindTypeQuery(ps, eventType, range[0], range[1], limit);
            return read(ps);
        } catch (SQLException e) {
            throw failure("looking up audit events by type and time", e);
        }
    }

    private List<AuditEvent> read(PreparedStatement ps) throws SQLException {
        List<AuditEvent> found = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                String json = rs.getString(1);
                try {
                    found.add(AuditJson.fromJson(json));
                } catch (IllegalArgumentException e) {
                    throw new SQLException(
                            "a row of table \"" + table + "\" holds audit_data that is not an audit " + "event ("
                                    + e.getMessage() + ")",
                            e);
                }
            }
        }
        return found;
    }

    private Connection connectWithSchema() throws SQLException {
        Connection c = dataSource.getConnection();
        try {
            prepare(c);
            ensureSchema(c);
            return c;
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c, e);
            throw e;
        }
    }

    private Connection connect() throws SQLException {
        Connection c = dataSource.getConnection();
        try {
            prepare(c);
            return c;
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c, e);
            throw e;
        }
    }

    /** Learns the dialect from the first connection, and readies each connection for it. */
    private void prepare(Connection c) throws SQLException {
        Dialect d = dialect;
        if (d == null) {
            d = Dialect.of(c);
            dialect = d;
        }
        if (d == Dialect.SQLITE && table.schema() != null) {
            throw new SQLException("SQLite keeps one database per file and has no schemas; withSchema(\""
                    + table.schema() + "\") is for PostgreSQL, MariaDB and MySQL");
        }
        d.prepare(c);
    }

    private void ensureSchema(Connection c) throws SQLException {
        if (!schemaReady) {
            if (createsSchema) {
                dialect.createSchema(c, table);
            } else {
                dialect.verifySchema(c, table);
            }
            schemaReady = true;
        }
    }

    private static void closeQuietly(Connection c, Throwable failure) {
        try {
            c.close();
        } catch (SQLException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    private AuditStoreException failure(String doing, SQLException e) {
        Dialect d = dialect;
        String store = (d == null ? "audit database" : d.displayName()) + " table \"" + table + "\"";
        String sqlState = d == null ? e.getSQLState() : d.sqlState(e);
        return new AuditStoreException(
                doing + " in " + store + " failed: " + e.getMessage()
                        + (sqlState != null ? " (SQLState " + sqlState + ")" : ""),
                e,
                sqlState);
    }

    /** Closes the connections that a sink made by {@link #sqlite} or {@link #forUrl} keeps open for writing. */
    @Override
    public void close() {
        if (writeConnections != null) {
            writeConnections.close();
        }
    }

    private int keptForWriting() {
        return writeConnections == null ? 0 : writeConnections.max();
    }

    @Override
    public String toString() {
        return "JdbcAuditSink[" + table + " via " + dataSource + "]";
    }
}
