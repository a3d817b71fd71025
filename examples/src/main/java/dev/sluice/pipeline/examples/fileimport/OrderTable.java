package dev.sluice.pipeline.examples.fileimport;

import dev.sluice.pipeline.audit.JdbcCheckpointStore;
import dev.sluice.pipeline.examples.CommandLine.BadInput;
import dev.sluice.pipeline.examples.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/** The import's destination; used by the sink stage's thread only. */
final class OrderTable implements AutoCloseable {
    static final String TABLE = "orders";
    private final Connection connection;

    private OrderTable(Connection connection) {
        this.connection = connection;
    }

    /**
     * Opens the job's own database and recreates its table.
     *
     * @throws BadInput if the database cannot be opened or the table cannot be recreated
     */
    static OrderTable recreate(String jdbcUrl) throws BadInput {
        return open(jdbcUrl, true);
    }

    /**
     * Opens the job's own database and its table as an interrupted import left it (created if missing).
     *
     * @throws BadInput if the database cannot be opened or the table cannot be created
     */
    static OrderTable reopen(String jdbcUrl) throws BadInput {
        return open(jdbcUrl, false);
    }

    private static OrderTable open(String jdbcUrl, boolean recreate) throws BadInput {
        Connection c = Database.open(jdbcUrl);
        try (Statement s = c.createStatement()) {
            if (recreate) {
                s.execute("DROP TABLE IF EXISTS " + TABLE);
            }
            // id is the key the import upserts by: a line imported again replaces its row, and counts in writes
            s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id BIGINT NOT NULL PRIMARY KEY,"
                    + " customer VARCHAR(64) NOT NULL, email VARCHAR(128) NOT NULL, amount_cents BIGINT NOT NULL,"
                    + " writes INTEGER NOT NULL DEFAULT 1)");
            c.commit();
            return new OrderTable(c);
        } catch (SQLException e) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // the error being reported is the one that matters
            }
            throw Database.cannotUse(jdbcUrl, e);
        }
    }

    /**
     * Upserts a batch by id and, in the same transaction, saves {@code checkpoint} (the position the import would
     * resume at) under {@code checkpointName} in {@link JdbcCheckpointStore#TABLE}: after a crash, the rows written
     * beyond the saved checkpoint are at most this batch's.
     */
    void upsert(List<Order> batch, String checkpointName, long checkpoint) throws SQLException {
        try (PreparedStatement saveCheckpoint = connection.prepareStatement("INSERT INTO " + JdbcCheckpointStore.TABLE
                + " (name, position, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                + " position = excluded.position, updated_at = excluded.updated_at")) {
            saveCheckpoint.setString(1, checkpointName);
            saveCheckpoint.setLong(2, checkpoint);
            saveCheckpoint.setLong(3, System.currentTimeMillis());
            saveCheckpoint.executeUpdate();
        } catch (SQLException e) {
            connection.rollback();
            throw e;
        }
        Database.insertAll( // commits both
                connection,
                "INSERT INTO " + TABLE + " (id, customer, email, amount_cents) VALUES (?, ?, ?, ?)"
                        + " ON CONFLICT (id) DO UPDATE SET customer = excluded.customer, email = excluded.email,"
                        + " amount_cents = excluded.amount_cents, writes = " + TABLE + ".writes + 1",
                batch,
                (insert, o) -> {
                    insert.setLong(1, o.id());
                    insert.setString(2, o.customer());
                    insert.setString(3, o.email());
                    insert.setLong(4, o.amountCents());
                });
    }

    /**
     * Rows, distinct ids, the total amount, and the rows written again (by a restarted import replaying what its
     * interrupted run had already written): enough to check the import.
     */
    record Totals(long rows, long distinctIds, long amountCents, long rewrites) {}

    Totals totals() throws SQLException {
        try (Statement s = connection.createStatement();
                ResultSet r = s.executeQuery("SELECT COUNT(*), COUNT(DISTINCT id), COALESCE(SUM(amount_cents), 0),"
                        + " COALESCE(SUM(writes), 0) - COUNT(*) FROM " + TABLE)) {
            r.next();
            return new Totals(r.getLong(1), r.getLong(2), r.getLong(3), r.getLong(4));
        }
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
