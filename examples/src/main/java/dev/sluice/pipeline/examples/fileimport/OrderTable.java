package dev.sluice.pipeline.examples.fileimport;

import dev.sluice.pipeline.examples.CommandLine.BadInput;
import dev.sluice.pipeline.examples.Database;
import java.sql.Connection;
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
        Connection c = Database.open(jdbcUrl);
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + TABLE);
            s.execute("CREATE TABLE " + TABLE + " (id BIGINT NOT NULL, customer VARCHAR(64) NOT NULL,"
                    + " email VARCHAR(128) NOT NULL, amount_cents BIGINT NOT NULL)");
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

    void insert(List<Order> batch) throws SQLException {
        Database.insertAll(
                connection,
                "INSERT INTO " + TABLE + " (id, customer, email, amount_cents) VALUES (?, ?, ?, ?)",
                batch,
                (insert, o) -> {
                    insert.setLong(1, o.id());
                    insert.setString(2, o.customer());
                    insert.setString(3, o.email());
                    insert.setLong(4, o.amountCents());
                });
    }

    /** Rows, distinct ids, and the total amount: enough to check the import. */
    record Totals(long rows, long distinctIds, long amountCents) {}

    Totals totals() throws SQLException {
        try (Statement s = connection.createStatement();
                ResultSet r = s.executeQuery(
                        "SELECT COUNT(*), COUNT(DISTINCT id), COALESCE(SUM(amount_cents), 0) FROM " + TABLE)) {
            r.next();
            return new Totals(r.getLong(1), r.getLong(2), r.getLong(3));
        }
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
