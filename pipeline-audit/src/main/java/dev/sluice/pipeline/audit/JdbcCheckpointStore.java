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
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link CheckpointStore} in a table of a JDBC database, the same database as the audit trail: SQLite (the
 * embedded default), PostgreSQL, MariaDB or MySQL. The table {@value #TABLE} ({@code name} primary key,
 * {@code position}, {@code updated_at} in epoch milliseconds) is created if missing, never dropped.
 *
 * <p>Names match exactly, on every database: {@code "Orders"} and {@code "orders"}, {@code "job"} and
 * {@code "job "}, {@code "resume"} and {@code "résumé"} are different checkpoints, and any Unicode name is kept as
 * it is. A name has at most 255 characters (Unicode code points); a longer one is refused with an
 * {@link IllegalArgumentException}, never cut short. On MariaDB and MySQL, whose default collations ignore case, accents and trailing spaces, the name column is
 * {@code utf8mb4} in a binary collation that does not pad ({@code utf8mb4_nopad_bin}, or
 * {@code utf8mb4_0900_bin} on MySQL), whatever the database's default character set. A table created there before
 * names matched exactly is converted to that collation at first use (one {@code ALTER TABLE}, logged as a warning);
 * if the login may not alter it, every call fails with a message that names the table and the statement to run.
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

    /**
     * The collation of the name column on MariaDB: code points compared as they are, trailing spaces included (a
     * {@code _bin} collation that pads, such as {@code utf8mb4_bin}, would make {@code "job"} and {@code "job "} one
     * primary key).
     */
    private static final String MARIADB_COLLATION = "utf8mb4_nopad_bin";

    /** MySQL's name for such a collation; MySQL has no {@value #MARIADB_COLLATION}. */
    private static final String MYSQL_COLLATION = "utf8mb4_0900_bin";

    /** The collations a name column on MariaDB or MySQL may have for names to match exactly. */
    private static final List<String> EXACT_COLLATIONS = List.of(MARIADB_COLLATION, MYSQL_COLLATION);

    private static final Logger log = LoggerFactory.getLogger(JdbcCheckpointStore.class);

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

    /**
     * The most characters (code points) a checkpoint name may have: the name column's width. A longer name is refused
     * with an {@link IllegalArgumentException}; build long names from a hash of what identifies the job.
     *
     * @since 0.1
     */
    public static final int MAX_NAME_LENGTH = 255;

    /**
     * Checks a checkpoint name: not blank, at most {@value #MAX_NAME_LENGTH} characters, so that no database cuts it
     * short (a MariaDB server outside strict mode would, and two long names would share a row), and text every
     * database keeps as it is: no U+0000 (PostgreSQL refuses it) and no unpaired surrogate (encoded as {@code ?}, so
     * that a lone high surrogate after {@code "job"} and {@code "job?"} would share a row).
     */
    private static void requireName(String name) {
        Require.notBlank(name, "name");
        Require.argument(
                name.codePointCount(0, name.length()) <= MAX_NAME_LENGTH,
                "name",
                "have at most " + MAX_NAME_LENGTH + " characters",
                name);
        for (int i = 0; i < name.length(); ) {
            int cp = name.codePointAt(i);
            Require.argument(
                    cp != 0 && !(cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE),
                    "name",
                    "be text every database keeps as it is: no U+0000 and no unpaired surrogate (at index " + i + ")",
                    name.replace("\0", "\\u0000"));
            i += Character.charCount(cp);
        }
    }

    @Override
    public OptionalLong load(String name) {
        requireName(name);
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
        requireName(name);
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
        requireName(name);
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
                    if (Dialect.of(c) == Dialect.MARIADB) {
                        createExactTable(c, s);
                    } else {
                        // SQLite compares text byte for byte (its BINARY collation), PostgreSQL with a deterministic
                        // collation, which tells apart any two different strings: names already match exactly.
                        s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (name VARCHAR(255) NOT NULL PRIMARY KEY,"
                                + " position BIGINT NOT NULL, updated_at BIGINT NOT NULL)");
                    }
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

    /**
     * Creates the table on MariaDB or MySQL with its name column in utf8mb4 and a binary collation that does not pad,
     * or converts the name column of a table created before to it. The server's default collation would match names
     * ignoring case, accents and trailing spaces (two jobs would share one checkpoint), and a latin1 default could
     * not hold non-Latin names at all. Converting only splits names that matched before, so it never meets a
     * duplicate key.
     */
    private static void createExactTable(Connection c, Statement s) throws SQLException {
        String nameColumn = "name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE " + exactCollation(s) + " NOT NULL";
        s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (" + nameColumn + " PRIMARY KEY,"
                + " position BIGINT NOT NULL, updated_at BIGINT NOT NULL) ENGINE = InnoDB");
        String current = nameCollation(c);
        if (current == null || EXACT_COLLATIONS.contains(current)) {
            return;
        }
        String alter = "ALTER TABLE " + TABLE + " MODIFY " + nameColumn;
        try {
            s.execute(alter);
        } catch (SQLException e) {
            throw new SQLException(
                    "table " + TABLE + " was created before checkpoint names matched exactly: its name column's"
                            + " collation " + current + " matches names ignoring case, accents or trailing spaces,"
                            + " and converting it failed (" + e.getMessage() + "); run as a user who may alter it: "
                            + alter,
                    e.getSQLState(),
                    e);
        }
        log.warn(
                "Converted the name column of table {} from collation {} to {}: checkpoint names now match exactly"
                        + " (case, accents and trailing spaces count). A job whose name had only matched another"
                        + " job's checkpoint that way has none of its own now and starts afresh",
                TABLE,
                current,
                nameCollation(c));
    }

    /** {@value #MARIADB_COLLATION} if the server has it (MariaDB), else {@code utf8mb4_0900_bin} (MySQL 8). */
    private static String exactCollation(Statement s) throws SQLException {
        try (ResultSet r = s.executeQuery("SELECT COLLATION_NAME FROM information_schema.COLLATIONS"
                + " WHERE COLLATION_NAME IN ('" + MARIADB_COLLATION + "', '" + MYSQL_COLLATION + "')")) {
            String found = null;
            while (r.next()) {
                String collation = r.getString(1);
                if (found == null || collation.equalsIgnoreCase(MARIADB_COLLATION)) {
                    found = collation;
                }
            }
            if (found == null) {
                throw new SQLException("the server has neither collation " + MARIADB_COLLATION + " (MariaDB 10.2 or"
                        + " later) nor " + MYSQL_COLLATION + " (MySQL 8.0 or later), which " + TABLE
                        + " needs for names to match exactly");
            }
            return found.toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The collation of the table's name column, lower case; null if the column is binary ({@code VARBINARY}, created
     * by hand), which matches exactly already.
     */
    private static String nameCollation(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT COLLATION_NAME FROM information_schema.COLUMNS"
                + " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'name'")) {
            ps.setString(1, TABLE);
            try (ResultSet r = ps.executeQuery()) {
                if (!r.next()) {
                    throw new SQLException("table " + TABLE + " has no column 'name'");
                }
                String collation = r.getString(1);
                return collation == null ? null : collation.toLowerCase(Locale.ROOT);
            }
        }
    }

    @Override
    public String toString() {
        return "JdbcCheckpointStore[" + TABLE + "]";
    }
}
