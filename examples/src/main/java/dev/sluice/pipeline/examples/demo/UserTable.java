package dev.sluice.pipeline.examples.demo;

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
 */
final class UserTable implements AutoCloseable {

    static final String TABLE = "demo_users";

    private final Connection connection;

    private UserTable(Connection connection) {
        this.connection = connection;
    }

    /** Opens the database and recreates the demo's table (the audit table is left alone). */
    static UserTable recreate(String jdbcUrl) throws SQLException {
        Connection c = Database.connect(jdbcUrl);
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + TABLE);
            s.execute("CREATE TABLE " + TABLE + " (user_id VARCHAR(32) NOT NULL, name VARCHAR(64) NOT NULL,"
                    + " email VARCHAR(128) NOT NULL, online INTEGER NOT NULL, segment VARCHAR(16) NOT NULL,"
                    + " score INTEGER NOT NULL)");
            c.commit();
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return new UserTable(c);
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
