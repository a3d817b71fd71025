package dev.sluice.pipeline.examples.consumer;

import dev.sluice.pipeline.examples.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/** The consumer job's table; used by the sink stage's thread only. */
final class ReadingTable implements AutoCloseable {
    static final String TABLE = "readings";
    private final Connection connection;

    ReadingTable(String jdbcUrl) throws SQLException {
        connection = Database.connect(jdbcUrl);
        try (Statement s = connection.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + TABLE
                    + " (sequence BIGINT NOT NULL, sensor VARCHAR(32) NOT NULL, fahrenheit DOUBLE PRECISION NOT NULL)");
            connection.commit();
        }
    }

    void insert(List<Reading> batch) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO " + TABLE + " (sequence, sensor, fahrenheit) VALUES (?, ?, ?)")) {
            for (Reading r : batch) {
                insert.setLong(1, r.sequence());
                insert.setString(2, r.sensor());
                insert.setDouble(3, r.fahrenheit());
                insert.addBatch();
            }
            insert.executeBatch();
            connection.commit();
        } catch (SQLException e) {
            connection.rollback();
            throw e;
        }
    }

    long count() throws SQLException {
        try (Statement s = connection.createStatement(); ResultSet r = s.executeQuery("SELECT COUNT(*) FROM " + TABLE)) {
            r.next();
            return r.getLong(1);
        }
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
