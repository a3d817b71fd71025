package dev.sluice.pipeline.examples.demo;

import dev.sluice.pipeline.examples.CommandLine.BadInput;
import dev.sluice.pipeline.examples.Database;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The demo's destination table. Used by one thread at a time (the sink stage), on its own connection. The table
 * has no unique key on purpose: the demo proves "exactly once" by counting, not by letting the database reject
 * duplicates.
 *
 * <p>The demo drops and recreates {@value #TABLE} on every run, in whatever database it is given, so it touches
 * only a table it created itself: creating it, it records it in {@value #MARKER_TABLE}, and it refuses a
 * {@value #TABLE} that has no such record, leaving it untouched.
 */
final class UserTable implements AutoCloseable {

    static final String TABLE = "demo_users";
    static final String MARKER_TABLE = "sluice_demo_meta";

    private final Connection connection;
    private final String jdbcUrl;

    private UserTable(Connection connection, String jdbcUrl) {
        this.connection = connection;
        this.jdbcUrl = jdbcUrl;
    }

    /**
     * Opens the database and checks that its {@value #TABLE}, if any, is the demo's own; {@link #recreate} then
     * recreates it (the audit table is left alone), in one transaction.
     *
     * @throws BadInput if the database cannot be opened, or holds a {@value #TABLE} the demo did not create
     */
    static UserTable open(String jdbcUrl) throws BadInput {
        Connection c = Database.open(jdbcUrl);
        try {
            if (exists(c, TABLE) && !createdByTheDemo(c)) {
                throw new BadInput("the database " + Database.describe(jdbcUrl) + " has a table " + TABLE
                        + " that the demo did not create (no row for it in " + MARKER_TABLE
                        + "); the demo leaves it untouched: give it a database of its own with --jdbc-url");
            }
            return new UserTable(c, jdbcUrl);
        } catch (SQLException e) {
            closeQuietly(c);
            throw Database.cannotUse(jdbcUrl, e);
        } catch (BadInput e) {
            closeQuietly(c);
            throw e;
        }
    }

    /** Drops the demo's table, which {@link #open} found to be the demo's own or missing, and creates it empty. */
    void recreate() throws BadInput {
        try (Statement s = connection.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + MARKER_TABLE
                    + " (table_name VARCHAR(64) NOT NULL PRIMARY KEY, note VARCHAR(200) NOT NULL)");
            s.execute("DROP TABLE IF EXISTS " + TABLE);
            s.execute("CREATE TABLE " + TABLE + " (user_id VARCHAR(32) NOT NULL, name VARCHAR(64) NOT NULL,"
                    + " email VARCHAR(128) NOT NULL, online INTEGER NOT NULL, segment VARCHAR(16) NOT NULL,"
                    + " score INTEGER NOT NULL)");
            s.execute("DELETE FROM " + MARKER_TABLE + " WHERE table_name = '" + TABLE + "'");
            s.execute("INSERT INTO " + MARKER_TABLE + " (table_name, note) VALUES ('" + TABLE
                    + "', 'created by the Sluice demo (run-demo), which drops and recreates it on every run')");
            connection.commit();
        } catch (SQLException e) {
            throw Database.cannotUse(jdbcUrl, e);
        }
    }

    /**
     * Whether {@code table} resolves in this connection, as the demo's own statements would resolve it (the search
     * path on PostgreSQL), leaving no transaction open.
     */
    private static boolean exists(Connection c, String table) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeQuery("SELECT 1 FROM " + table + " WHERE 1 = 0").close();
            return true;
        } catch (SQLException missing) {
            return false;
        } finally {
            c.rollback(); // a failed statement aborts a PostgreSQL transaction
        }
    }

    private static boolean createdByTheDemo(Connection c) throws SQLException {
        if (!exists(c, MARKER_TABLE)) {
            return false;
        }
        try (Statement s = c.createStatement();
                ResultSet r = s.executeQuery(
                        "SELECT COUNT(*) FROM " + MARKER_TABLE + " WHERE table_name = '" + TABLE + "'")) {
            r.next();
            return r.getLong(1) > 0;
        } finally {
            c.rollback();
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // the error being reported is the one that matters
        }
    }

    /** Inserts a batch in one transaction. */
    void insert(List<EnrichedUser> batch) throws SQLException {
        Database.insertAll(
                connection,
                "INSERT INTO " + TABLE + " (user_id, name, email, online, segment, score) VALUES (?, ?, ?, ?, ?, ?)",
                batch,
                (insert, u) -> {
                    insert.setString(1, u.user().getUserId());
                    insert.setString(2, u.user().getName());
                    insert.setString(3, u.user().getEmail());
                    insert.setInt(4, u.user().getOnline() ? 1 : 0);
                    insert.setString(5, u.segment());
                    insert.setInt(6, u.score());
                });
    }

    /** What the table holds: all rows, and distinct users. */
    record Count(long rows, long distinctUsers) {
        boolean exactlyOnce(long expected) {
            return rows == expected && distinctUsers == expected;
        }
    }

    Count count() throws SQLException {
        try (Statement s = connection.createStatement();
                ResultSet r = s.executeQuery("SELECT COUNT(*), COUNT(DISTINCT user_id) FROM " + TABLE)) {
            r.next();
            return new Count(r.getLong(1), r.getLong(2));
        }
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
