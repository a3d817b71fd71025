package dev.sluice.pipeline.examples;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/** Opens the examples' database connections: SQLite (a file, shared with the audit trail) or PostgreSQL. */
public final class Database {

    private Database() {}

    /**
     * A connection with auto-commit off. SQLite gets WAL mode and a busy timeout: the examples' data and their
     * audit trail share one file, written by two connections at once.
     */
    public static Connection connect(String jdbcUrl) throws SQLException {
        Connection c = DriverManager.getConnection(jdbcUrl);
        try {
            if (jdbcUrl.startsWith("jdbc:sqlite:")) {
                try (Statement s = c.createStatement()) {
                    s.execute("PRAGMA journal_mode=WAL");
                    s.execute("PRAGMA busy_timeout=10000");
                    s.execute("PRAGMA synchronous=NORMAL");
                }
            }
            c.setAutoCommit(false);
            return c;
        } catch (SQLException e) {
            c.close();
            throw e;
        }
    }
}
