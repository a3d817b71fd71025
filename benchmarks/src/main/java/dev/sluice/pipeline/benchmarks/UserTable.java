package dev.sluice.pipeline.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The end-to-end benchmark's destination: the examples' demo table ({@value #TABLE}: the same columns, no key) in a
 * SQLite file, on a connection set up as the examples' {@code Database.connect} sets one up (WAL journal, a busy
 * timeout, {@code synchronous=NORMAL}, auto-commit off). {@link #insert} is the demo's: one prepared statement per
 * batch, every row added to one JDBC batch, executed and committed as one transaction. One thread at a time uses an
 * instance; any number may be open on the same file.
 */
final class UserTable implements AutoCloseable {

    static final String TABLE = "demo_users";
    static final String FILE = "demo.db";
    private static final String INSERT =
            "INSERT INTO " + TABLE + " (user_id, name, email, online, segment, score) VALUES (?, ?, ?, ?, ?, ?)";

    private final Connection connection;

    private UserTable(Connection connection) {
        this.connection = connection;
    }

    /** Opens {@value #FILE} in {@code dir}, creating the file if it is missing; the table is left as it is. */
    static UserTable open(Path dir) throws SQLException {
        Connection c =
                DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(FILE).toAbsolutePath());
        try {
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA busy_timeout=10000");
                s.execute("PRAGMA synchronous=NORMAL");
            }
            c.setAutoCommit(false);
            return new UserTable(c);
        } catch (SQLException e) {
            c.close();
            throw e;
        }
    }

    /** Drops and creates {@value #TABLE}, as the demo does before a run. */
    void recreate() throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + TABLE);
            s.execute("CREATE TABLE " + TABLE + " (user_id VARCHAR(32) NOT NULL, name VARCHAR(64) NOT NULL,"
                    + " email VARCHAR(128) NOT NULL, online INTEGER NOT NULL, segment VARCHAR(16) NOT NULL,"
                    + " score INTEGER NOT NULL)");
        }
        connection.commit();
    }

    /** Inserts a batch in one transaction; rolls it back if anything fails. */
    void insert(List<EnrichedUser> batch) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement(INSERT)) {
            for (EnrichedUser u : batch) {
                insert.setString(1, u.user().getUserId());
                insert.setString(2, u.user().getName());
                insert.setString(3, u.user().getEmail());
                insert.setInt(4, u.user().getOnline() ? 1 : 0);
                insert.setString(5, u.segment());
                insert.setInt(6, u.score());
                insert.addBatch();
            }
            insert.executeBatch();
            connection.commit();
        } catch (SQLException e) {
            connection.rollback();
            throw e;
        }
    }

    /**
     * Empties the table and checkpoints the write-ahead log into the database file, truncating it, so that every
     * invocation starts from the same state: an empty table and an empty log.
     */
    void clear() throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute("DELETE FROM " + TABLE);
        }
        connection.commit();
        connection.setAutoCommit(true); // a checkpoint cannot run inside a transaction
        try (Statement s = connection.createStatement();
                ResultSet r = s.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
            // One row: whether another connection kept the checkpoint from completing, the log's pages, those copied.
            if (!r.next() || r.getInt(1) != 0 || r.getInt(2) > 0) {
                throw new IllegalStateException("the write-ahead log of " + FILE + " was not checkpointed and emptied"
                        + " (another connection held it): the next invocation would not start from an empty log");
            }
        } finally {
            connection.setAutoCommit(false);
        }
    }

    /** What the table holds: all rows, distinct users, and the sum of the rows' scores. */
    record Count(long rows, long distinctUsers, long scoreSum) {
        /**
         * Throws unless the table holds exactly {@code expected} rows, each of a different user, whose scores add up to
         * {@code expectedScoreSum} (the enrichment's results, not only their number).
         */
        void expectExactlyOnce(String who, long expected, long expectedScoreSum) {
            Items.expect(who + ": rows in " + TABLE, expected, rows);
            Items.expect(who + ": distinct users in " + TABLE, expected, distinctUsers);
            Items.expect(who + ": sum of scores in " + TABLE, expectedScoreSum, scoreSum);
        }
    }

    /** Counts in a read transaction of its own, ended before it returns (a later count sees later commits). */
    Count count() throws SQLException {
        Count count;
        try (Statement s = connection.createStatement();
                ResultSet r = s.executeQuery(
                        "SELECT COUNT(*), COUNT(DISTINCT user_id), COALESCE(SUM(score), 0) FROM " + TABLE)) {
            r.next();
            count = new Count(r.getLong(1), r.getLong(2), r.getLong(3));
        }
        connection.commit(); // with the statement closed, this ends the read transaction and its snapshot
        return count;
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }

    /** A directory of the benchmark's own for the database file; {@link AuditStore#deleteDirectory} removes it. */
    static Path newDirectory() {
        try {
            return Files.createTempDirectory("sluice-bench-e2e-");
        } catch (IOException e) {
            throw new IllegalStateException("cannot create a directory for the SQLite database: " + e, e);
        }
    }
}
