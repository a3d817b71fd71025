package dev.sluice.pipeline.examples;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
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
     * A connection with auto-commit off (see {@link #connect}), or, if the database cannot be reached or opened,
     * {@link CommandLine.BadInput} naming the database and the driver's reason.
     */
    public static Connection open(String jdbcUrl) throws CommandLine.BadInput {
        Path folder = sqliteFolder(jdbcUrl);
        if (folder != null && !Files.isDirectory(folder)) {
            throw new CommandLine.BadInput(
                    "cannot use the database " + describe(jdbcUrl) + ": the folder " + folder + " does not exist");
        }
        try {
            return connect(jdbcUrl);
        } catch (SQLException e) {
            throw cannotUse(jdbcUrl, e);
        }
    }

    /** The error for a database that refused what a program needs of it: the URL shown, and the driver's reason. */
    public static CommandLine.BadInput cannotUse(String jdbcUrl, SQLException e) {
        return new CommandLine.BadInput("cannot use the database " + describe(jdbcUrl) + ": " + e.getMessage());
    }

    /** The folder of the file a SQLite URL names, or null if it names none (another database, or one in memory). */
    private static Path sqliteFolder(String jdbcUrl) {
        if (!jdbcUrl.startsWith("jdbc:sqlite:")) {
            return null;
        }
        String file = describe(jdbcUrl).substring("jdbc:sqlite:".length());
        if (file.startsWith("file:")) {
            file = file.substring("file:".length());
        }
        if (file.isEmpty() || file.startsWith(":memory:")) {
            return null;
        }
        try {
            return Path.of(file).toAbsolutePath().normalize().getParent();
        } catch (InvalidPathException e) {
            return null; // the driver says what is wrong with it
        }
    }

    /** The URL as a message may show it: without its query ({@code ?user=…&password=…}), which may hold a password. */
    public static String describe(String jdbcUrl) {
        int query = jdbcUrl.indexOf('?');
        return query < 0 ? jdbcUrl : jdbcUrl.substring(0, query);
    }

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
