package dev.sluice.pipeline.audit;

import dev.sluice.pipeline.CheckpointStore;
import dev.sluice.pipeline.audit.internal.Dialect;
import dev.sluice.pipeline.audit.internal.DriverManagerDataSource;
import dev.sluice.pipeline.internal.check.Require;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;

/**
 * A {@link CheckpointStore} in a table of a JDBC database, the same database as the audit trail: SQLite (the
 * embedded default), PostgreSQL, MariaDB or MySQL. The table {@value #TABLE} ({@code name} primary key,
 * {@code position}, {@code updated_at} in epoch milliseconds) is created if missing, never dropped.
 *
 * <p>Thread-safe. Each call takes a connection of its own (checkpoints are written at intervals, not per item),
 * and a save is one upsert in its own transaction: durable when it returns. Failures throw
 * {@link AuditStoreException} naming what failed, never the URL (it may hold a password).
 *
 * @since 0.1
 */
public final class JdbcCheckpointStore implements CheckpointStore {

    /** The table the checkpoints are kept in. */
    public static final String TABLE = "sluice_checkpoints";

    private final DataSource dataSource;
    private final AtomicBoolean schemaReady = new AtomicBoolean();

    private JdbcCheckpointStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * A store in the SQLite database {@code file} (created if missing; its directory must exist). Needs
     * {@code org.xerial:sqlite-jdbc} on the class path.
     *
     * @param file the database file, as the audit trail's {@link JdbcAuditSink#sqlite(Path)}
     * @return the store; it connects only when first used
     * @throws IllegalArgumentException if the path holds a {@code ?}
     */
    public static JdbcCheckpointStore sqlite(Path file) {
        Require.nonNull(file, "file");
        Path absolute = file.toAbsolutePath();
        Require.argument(absolute.toString().indexOf('?') < 0, "file", "not contain '?'", file);
        return new JdbcCheckpointStore(new DriverManagerDataSource("jdbc:sqlite:" + absolute));
    }

    /**
     * A store that connects with {@code jdbcUrl} through {@link java.sql.DriverManager}.
     *
     * @param jdbcUrl the database's URL, starting {@code jdbc:}
     * @return the store; it connects only when first used
     * @throws IllegalArgumentException if the URL does not start with {@code jdbc:}
     */
    public static JdbcCheckpointStore forUrl(String jdbcUrl) {
        Require.nonNull(jdbcUrl, "jdbcUrl");
        Require.argument(
                jdbcUrl.startsWith("jdbc:"),
                "jdbcUrl",
                "start with 'jdbc:'",
                "a URL starting '" + DriverManagerDataSource.scheme(jdbcUrl) + "'");
        return new JdbcCheckpointStore(new DriverManagerDataSource(jdbcUrl));
    }

    /**
     * A store that takes its connections from {@code dataSource} (a pool, typically), one per call.
     *
     * @param dataSource where connections come from
     * @return the store
     */
    public static JdbcCheckpointStore forDataSource(DataSource dataSource) {
        return new JdbcCheckpointStore(Require.nonNull(dataSource, "dataSource"));
    }

    @Override
    public OptionalLong load(String name) {
        Require.notBlank(name, "name");
        try (Connection c = connect();
                PreparedStatement select = c.prepareStatement("SELECT position FROM " + TABLE + " WHERE name = ?")) {
            select.setString(1, name);
            try (ResultSet r = select.executeQuery()) {
                return r.next() ? OptionalLong.of(r.getLong(1)) : OptionalLong.empty();
            }
        } catch (SQLException e) {
            throw new AuditStoreException("loading checkpoint '" + name + "' failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void save(String name, long position) {
        Require.notBlank(name, "name");
        try (Connection c = connect()) {
            String upsert = Dialect.of(c) == Dialect.MARIADB
                    ? "INSERT INTO " + TABLE + " (name, position, updated_at) VALUES (?, ?, ?)"
                            + " ON DUPLICATE KEY UPDATE position = VALUES(position), updated_at = VALUES(updated_at)"
                    : "INSERT INTO " + TABLE + " (name, position, updated_at) VALUES (?, ?, ?)"
                            + " ON CONFLICT (name) DO UPDATE SET position = excluded.position,"
                            + " updated_at = excluded.updated_at";
            try (PreparedStatement s = c.prepareStatement(upsert)) {
                s.setString(1, name);
                s.setLong(2, position);
                s.setLong(3, System.currentTimeMillis());
                s.executeUpdate();
            }
            if (!c.getAutoCommit()) {
                c.commit();
            }
        } catch (SQLException e) {
            throw new AuditStoreException(
                    "saving checkpoint '" + name + "' at " + position + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void delete(String name) {
        Require.notBlank(name, "name");
        try (Connection c = connect();
                PreparedStatement delete = c.prepareStatement("DELETE FROM " + TABLE + " WHERE name = ?")) {
            delete.setString(1, name);
            delete.executeUpdate();
            if (!c.getAutoCommit()) {
                c.commit();
            }
        } catch (SQLException e) {
            throw new AuditStoreException("deleting checkpoint '" + name + "' failed: " + e.getMessage(), e);
        }
    }

    /** A connection, the table created first if this store has not yet made sure of it. */
    private Connection connect() throws SQLException {
        Connection c = dataSource.getConnection();
        try {
            if (Dialect.of(c) == Dialect.SQLITE) {
                try (Statement s = c.createStatement()) {
                    s.execute("PRAGMA busy_timeout = " + Dialect.BUSY_TIMEOUT_MS);
                }
            }
            if (!schemaReady.get()) {
                try (Statement s = c.createStatement()) {
                    s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (name VARCHAR(255) NOT NULL PRIMARY KEY,"
                            + " position BIGINT NOT NULL, updated_at BIGINT NOT NULL)");
                }
                if (!c.getAutoCommit()) {
                    c.commit();
                }
                schemaReady.set(true);
            }
            return c;
        } catch (SQLException | RuntimeException e) {
            try {
                c.close();
            } catch (SQLException inClose) {
                e.addSuppressed(inClose);
            }
            throw e;
        }
    }

    @Override
    public String toString() {
        return "JdbcCheckpointStore[" + TABLE + "]";
    }
}
