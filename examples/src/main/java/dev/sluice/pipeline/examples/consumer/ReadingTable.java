package dev.sluice.pipeline.examples.consumer;

import dev.sluice.pipeline.examples.CommandLine.BadInput;
import dev.sluice.pipeline.examples.Database;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/** The consumer job's table; used by the sink stage's thread only. */
final class ReadingTable implements AutoCloseable {
    static final String TABLE = "readings";
    private final Connection connection;

    private ReadingTable(Connection connection) {
        this.connection = connection;
    }

    /**
     * Opens the database and creates the table if missing.
     *
     * @throws BadInput if the database cannot be opened or the table cannot be created
     */
    static ReadingTable open(String jdbcUrl) throws BadInput {
        Connection c = Database.open(jdbcUrl);
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + TABLE
                    + " (sequence BIGINT NOT NULL, sensor VARCHAR(32) NOT NULL, fahrenheit DOUBLE PRECISION NOT NULL)");
            c.commit();
            return new ReadingTable(c);
        } catch (SQLException e) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // the error being reported is the one that matters
            }
            throw Database.cannotUse(jdbcUrl, e);
        }
    }

    void insert(List<Reading> batch) throws SQLException {
        Database.insertAll(
                connection,
                "INSERT INTO " + TABLE + " (sequence, sensor, fahrenheit) VALUES (?, ?, ?)",
                batch,
                (insert, r) -> {
                    insert.setLong(1, r.sequence());
                    insert.setString(2, r.sensor());
                    insert.setDouble(3, r.fahrenheit());
                });
    }

    long count() throws SQLException {
        return Database.queryLong(connection, "SELECT COUNT(*) FROM " + TABLE);
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
