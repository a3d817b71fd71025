package dev.sluice.pipeline.audit;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/**
 * What a real table adds to make its database refuse some events for good, whatever the retries: events whose
 * correlation ID starts with {@value #PREFIX}. No mock: the database itself says no.
 */
final class Refusing {
    static final String PREFIX = "poison";

    private Refusing() {}

    /** SQLite: a trigger that raises for such events (SQLITE_CONSTRAINT_TRIGGER). The table must exist. */
    static void sqliteTrigger(DataSource ds, String table) throws SQLException {
        execute(
                ds,
                "CREATE TRIGGER \"" + table + "_no_poison\" BEFORE INSERT ON \"" + table + "\" WHEN NEW.correlation_id"
                        + " LIKE '" + PREFIX + "%' BEGIN SELECT RAISE(ABORT, 'poison is refused'); END");
    }

    /** PostgreSQL: a CHECK constraint that refuses such events (SQLState 23514). The table must exist. */
    static void postgresCheck(DataSource ds, String table) throws SQLException {
        execute(
                ds,
                "ALTER TABLE \"" + table + "\" ADD CONSTRAINT \"" + table
                        + "_no_poison\" CHECK (correlation_id NOT LIKE '" + PREFIX + "%')");
    }

    /** MariaDB: a CHECK constraint that refuses such events (error 4025, SQLState 23000). The table must exist. */
    static void mariadbCheck(DataSource ds, String table) throws SQLException {
        execute(
                ds,
                "ALTER TABLE `" + table + "` ADD CONSTRAINT `" + table + "_no_poison` CHECK (correlation_id NOT LIKE '"
                        + PREFIX + "%')");
    }

    private static void execute(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
