package dev.sluice.pipeline.audit;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;
import javax.sql.DataSource;
import org.sqlite.SQLiteDataSource;

/**
 * The databases the audit trail stores in, each a real one on this machine (an SQLite file, the local PostgreSQL,
 * the local MariaDB), for tests that run the same behaviour against each. What differs between them in a test's
 * own SQL is here.
 */
enum JdbcStore {
    SQLITE {
        @Override
        DataSource dataSource(Path dir) {
            SQLiteDataSource ds = new SQLiteDataSource();
            ds.setUrl("jdbc:sqlite:" + dir.resolve("audit.db"));
            return ds;
        }

        @Override
        void refusePoison(DataSource ds, String table) throws SQLException {
            Refusing.sqliteTrigger(ds, table);
        }

        @Override
        String refusalSqlState() {
            return "23000"; // SQLite gives no SQLState: SQLITE_CONSTRAINT maps to the class
        }

        @Override
        long createdDateMillis(DataSource ds, String table, UUID eventId) throws SQLException {
            try (Connection c = ds.getConnection();
                    PreparedStatement ps = c.prepareStatement(
                            "SELECT typeof(created_date), created_date FROM " + quote(table) + " WHERE event_id = ?")) {
                ps.setString(1, eventId.toString());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (!rs.getString(1).equals("integer")) {
                        throw new AssertionError("SQLite stores times as epoch milliseconds, got " + rs.getString(1));
                    }
                    return rs.getLong(2);
                }
            }
        }
    },

    POSTGRESQL {
        @Override
        DataSource dataSource(Path dir) {
            return Postgres.dataSource();
        }

        @Override
        void refusePoison(DataSource ds, String table) throws SQLException {
            Refusing.postgresCheck(ds, table);
        }

        @Override
        String refusalSqlState() {
            return "23514";
        }

        @Override
        long createdDateMillis(DataSource ds, String table, UUID eventId) throws SQLException {
            try (Connection c = ds.getConnection();
                    PreparedStatement ps =
                            c.prepareStatement("SELECT created_date FROM " + quote(table) + " WHERE event_id = ?")) {
                ps.setObject(1, eventId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getObject(1, OffsetDateTime.class).toInstant().toEpochMilli();
                }
            }
        }
    },

    MARIADB {
        @Override
        DataSource dataSource(Path dir) {
            return MariaDb.dataSource();
        }

        @Override
        String quote(String identifier) {
            return '`' + identifier + '`';
        }

        @Override
        void refusePoison(DataSource ds, String table) throws SQLException {
            Refusing.mariadbCheck(ds, table);
        }

        @Override
        String refusalSqlState() {
            return "23000";
        }

        @Override
        long createdDateMillis(DataSource ds, String table, UUID eventId) throws SQLException {
            try (Connection c = ds.getConnection();
                    PreparedStatement ps =
                            c.prepareStatement("SELECT created_date FROM " + quote(table) + " WHERE event_id = ?")) {
                ps.setString(1, eventId.toString());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getObject(1, LocalDateTime.class)
                            .toInstant(ZoneOffset.UTC)
                            .toEpochMilli();
                }
            }
        }
    };

    /** A DataSource on this store; for SQLite, on a new file in {@code dir}. */
    abstract DataSource dataSource(Path dir);

    /** The identifier in this store's quotes. */
    String quote(String identifier) {
        return '"' + identifier + '"';
    }

    /** Makes {@code table} refuse events whose correlation ID starts with {@link Refusing#PREFIX}. */
    abstract void refusePoison(DataSource ds, String table) throws SQLException;

    /** The SQLState of this store's refusal of such an event. */
    abstract String refusalSqlState();

    /** The created_date column of the event's row, as UTC epoch milliseconds. */
    abstract long createdDateMillis(DataSource ds, String table, UUID eventId) throws SQLException;

    /** Drops {@code table} if it exists: the servers keep their data between runs. */
    void dropTable(DataSource ds, String table) throws SQLException {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + quote(table));
        }
    }
}
