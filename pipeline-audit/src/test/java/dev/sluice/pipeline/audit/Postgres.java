package dev.sluice.pipeline.audit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The local PostgreSQL of the project's machines: 127.0.0.1:5432, user {@code postgres}, trust authentication, and
 * the tests' own database {@value #DATABASE}, created if missing: never a database a user's demo or application might
 * name. Started if it is down; a test never skips for want of it. Public, and shipped in this module's test jar, so
 * that other modules' tests (the examples') use the same one.
 */
public final class Postgres {
    static final int PORT = 5432;
    /** The tests' database. */
    public static final String DATABASE = "sluice_test";

    private static final String ADMIN_DATABASE = "postgres";
    private static final Pattern DATABASE_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    private static final LocalServer SERVER =
            new LocalServer("PostgreSQL", Postgres::reachable, Postgres::start, () -> createIfMissing(DATABASE));

    private Postgres() {}

    /** The JDBC URL of the tests' database, the server started and the database created first if need be. */
    public static String jdbcUrl() {
        return jdbcUrl(DATABASE);
    }

    /**
     * The JDBC URL of database {@code name} (lowercase letters, digits, underscores), the server started and the
     * database created first if need be: for a test that needs a whole database of its own.
     */
    public static String jdbcUrl(String name) {
        ensureRunning();
        createIfMissing(name);
        return "jdbc:postgresql://127.0.0.1:" + PORT + "/" + name + "?user=postgres";
    }

    /** Drops database {@code name} if it exists, closing its connections first. */
    public static void dropDatabase(String name) throws SQLException {
        requireName(name);
        ensureRunning();
        try (Connection c = dataSource(PORT, ADMIN_DATABASE).getConnection();
                Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
    }

    /** A DataSource on the tests' database, the server started and the database created first if need be. */
    public static DataSource dataSource() {
        ensureRunning();
        return dataSource(PORT);
    }

    /**
     * A DataSource on the tests' database at a port of this machine, with a short connect timeout (a wrong port fails
     * at once anyway).
     */
    static PGSimpleDataSource dataSource(int port) {
        return dataSource(port, DATABASE);
    }

    private static PGSimpleDataSource dataSource(int port, String database) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {"127.0.0.1"});
        ds.setPortNumbers(new int[] {port});
        ds.setDatabaseName(database);
        ds.setUser("postgres");
        ds.setConnectTimeout(5);
        ds.setSocketTimeout(30);
        return ds;
    }

    /** Creates database {@code name} through the server's {@code postgres} database unless it exists. */
    private static void createIfMissing(String name) {
        requireName(name);
        try (Connection c = dataSource(PORT, ADMIN_DATABASE).getConnection();
                Statement s = c.createStatement()) {
            try (ResultSet r = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name + "'")) {
                if (r.next()) {
                    return;
                }
            }
            try {
                s.execute("CREATE DATABASE " + name);
            } catch (SQLException e) {
                // another test JVM created it first: duplicate_database, or unique_violation on pg_database
                if (!"42P04".equals(e.getSQLState()) && !"23505".equals(e.getSQLState())) {
                    throw e;
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create the test database " + name + ": " + e.getMessage(), e);
        }
    }

    private static void requireName(String name) {
        if (!DATABASE_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(
                    "name must be 1 to 63 lowercase letters, digits or underscores, not starting with a digit, got '"
                            + name + "'");
        }
    }

    public static void ensureRunning() {
        SERVER.ensureRunning();
    }

    private static boolean reachable() {
        try (Connection c = dataSource(PORT, ADMIN_DATABASE).getConnection()) {
            return c.isValid(5);
        } catch (SQLException e) {
            return false;
        }
    }

    private static void start() {
        try (Stream<Path> versions = Files.list(Path.of("/etc/postgresql"))) {
            for (Path version : versions.toList()) {
                Process p = new ProcessBuilder(List.of(
                                "pg_ctlcluster",
                                "--skip-systemctl-redirect",
                                version.getFileName().toString(),
                                "main",
                                "start"))
                        .inheritIO()
                        .start();
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException("pg_ctlcluster did not return within 60 s");
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("PostgreSQL is down and could not be started: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting PostgreSQL", e);
        }
    }

    /** A table name of its own for one test: PostgreSQL keeps its data between runs. */
    static String uniqueTable(String prefix) {
        return prefix + "_" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffff_ffff_ffffL);
    }

    static void dropTable(DataSource ds, String table) throws SQLException {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS \"" + table + "\"");
        }
    }
}
