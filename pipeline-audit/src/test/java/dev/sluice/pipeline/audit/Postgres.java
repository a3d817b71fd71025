package dev.sluice.pipeline.audit;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The local PostgreSQL of the project's machines: 127.0.0.1:5432, database {@code test}, user {@code postgres}, trust
 * authentication. Started if it is down; a test never skips for want of it. Public, and shipped in this module's
 * test jar, so that other modules' tests (the examples') use the same one.
 */
public final class Postgres {
    static final int PORT = 5432;
    private static final ReentrantLock START = new ReentrantLock();
    private static volatile boolean checked;

    private Postgres() {}

    /** The JDBC URL of the test database, the server started first if it was down. */
    public static String jdbcUrl() {
        ensureRunning();
        return "jdbc:postgresql://127.0.0.1:" + PORT + "/test?user=postgres";
    }

    /** A DataSource on the test database, the server started first if it was down. */
    public static DataSource dataSource() {
        ensureRunning();
        return dataSource(PORT);
    }

    /** A DataSource on a port of this machine, with a short connect timeout (a wrong port fails at once anyway). */
    static PGSimpleDataSource dataSource(int port) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {"127.0.0.1"});
        ds.setPortNumbers(new int[] {port});
        ds.setDatabaseName("test");
        ds.setUser("postgres");
        ds.setConnectTimeout(5);
        ds.setSocketTimeout(30);
        return ds;
    }

    public static void ensureRunning() {
        if (checked) {
            return;
        }
        START.lock();
        try {
            if (checked) {
                return;
            }
            if (!reachable()) {
                start();
                await("PostgreSQL to accept connections")
                        .atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(250))
                        .until(Postgres::reachable);
            }
            checked = true;
        } finally {
            START.unlock();
        }
    }

    private static boolean reachable() {
        try (Connection c = dataSource(PORT).getConnection()) {
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
