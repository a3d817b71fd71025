package dev.sluice.pipeline.examples;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

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

    /** Sets one row's parameters on the insert statement. */
    @FunctionalInterface
    public interface RowBinder<T> {
        void bind(PreparedStatement insert, T row) throws SQLException;
    }

    /** Inserts the rows as one JDBC batch in one transaction; rolls it back if anything fails. */
    public static <T> void insertAll(Connection c, String insertSql, List<T> rows, RowBinder<? super T> binder)
            throws SQLException {
        try (PreparedStatement insert = c.prepareStatement(insertSql)) {
            for (T row : rows) {
                binder.bind(insert, row);
                insert.addBatch();
            }
            insert.executeBatch();
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        }
    }

    /** The first column of the first row of a query: a count, a sum. */
    public static long queryLong(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getLong(1);
        }
    }
}
