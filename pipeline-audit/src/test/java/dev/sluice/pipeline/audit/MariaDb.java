package dev.sluice.pipeline.audit;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.mariadb.jdbc.MariaDbDataSource;

/**
 * The local MariaDB of the project's machines: 127.0.0.1:3306, user {@code root} without a password, and the tests'
 * own database {@value #DATABASE}, created if missing. Started if it is down; a test never skips for want of it.
 */
final class MariaDb {
    static final int PORT = 3306;
    /** The tests' database. */
    static final String DATABASE = "sluice_test";

    private static final LocalServer SERVER =
            new LocalServer("MariaDB", MariaDb::reachable, MariaDb::start, MariaDb::createDatabase);

    private MariaDb() {}

    /** A DataSource on the tests' database as root, the server started and the database created first if need be. */
    static DataSource dataSource() {
        ensureRunning();
        return dataSource("root", DATABASE);
    }

    /** A DataSource on the tests' database as {@code user}, who has no password. */
    static DataSource dataSource(String user) {
        ensureRunning();
        return dataSource(user, DATABASE);
    }

    /**
     * A DataSource on {@code database} (which the caller creates) as {@code user}, who has no password: for a test
     * that needs a database of its own, such as one whose default character set differs.
     */
    static DataSource onDatabase(String user, String database) {
        ensureRunning();
        return dataSource(user, database);
    }

    private static DataSource dataSource(String user, String database) {
        try {
            return new MariaDbDataSource("jdbc:mariadb://127.0.0.1:" + PORT + "/" + database + "?user=" + user
                    + "&connectTimeout=5000" + "&socketTimeout=30000");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    static void ensureRunning() {
        SERVER.ensureRunning();
    }

    private static void createDatabase() {
        try {
            execute(dataSource("root", ""), "CREATE DATABASE IF NOT EXISTS " + DATABASE);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create the test database " + DATABASE + ": " + e.getMessage(), e);
        }
    }

    private static boolean reachable() {
        try (Connection c = dataSource("root", "").getConnection()) {
            return c.isValid(5);
        } catch (SQLException e) {
            return false;
        }
    }

    private static void start() {
        try {
            Process p = new ProcessBuilder(List.of(
                            "start-stop-daemon", "--start", "--oknodo", "--background", "--exec", "/usr/sbin/mariadbd"))
                    .inheritIO()
                    .start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("start-stop-daemon did not return within 60 s");
            }
        } catch (IOException e) {
            throw new IllegalStateException("MariaDB is down and could not be started: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting MariaDB", e);
        }
    }

    static void execute(DataSource ds, String... sql) throws SQLException {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            for (String statement : sql) {
                s.execute(statement);
            }
        }
    }
}
