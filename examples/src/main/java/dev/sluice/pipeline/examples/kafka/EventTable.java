package dev.sluice.pipeline.examples.kafka;

import dev.sluice.pipeline.examples.CommandLine.BadInput;
import dev.sluice.pipeline.examples.Database;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The job's destination: table {@value #TABLE} of PostgreSQL, one row per event, written by an upsert. A replayed
 * event (read again after a member died before committing its offset) updates its row instead of adding one, and
 * counts itself in {@code times_written}: so the table holds every event once however often it was processed, and
 * the demo can tell how many were processed twice. {@code first_write} numbers the rows in the order they were
 * first written (an update leaves it alone), so the demo can tell whether each user's events were written in the
 * order they were produced, replays apart.
 *
 * <p>One thread writes (the job's sink stage, on the table's own connection); {@link #written} may be read by any.
 */
final class EventTable implements AutoCloseable {

    static final String TABLE = "kafka_demo_events";

    private static final String UPSERT = "INSERT INTO " + TABLE
            + " (event_id, user_id, seq, kind, country, segment, written_by, times_written)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, 1)"
            + " ON CONFLICT (event_id) DO UPDATE SET country = excluded.country, segment = excluded.segment,"
            + " written_by = excluded.written_by, times_written = " + TABLE + ".times_written + 1";
    private static final Pattern POSTGRES_URL = Pattern.compile("(jdbc:postgresql://[^/?]*/)([A-Za-z0-9_]+)(.*)");

    private final Connection connection;
    private final String writtenBy;
    /** Events written, replays included; read by other threads. */
    private final AtomicLong written = new AtomicLong();

    private EventTable(Connection connection, String writtenBy) {
        this.connection = connection;
        this.writtenBy = writtenBy;
    }

    /** Opens the table for a job instance, which names itself {@code writtenBy} in the rows it writes. */
    static EventTable open(String jdbcUrl, String writtenBy) throws BadInput {
        return new EventTable(Database.open(jdbcUrl), writtenBy);
    }

    /**
     * Creates the database if it does not exist (the demo's own, by default), and drops and recreates the table: each
     * demo starts from an empty one. Returns the table, opened for the demo's checks.
     *
     * @throws BadInput if the database cannot be reached or created
     */
    static EventTable recreate(String jdbcUrl) throws BadInput {
        createDatabaseIfMissing(jdbcUrl);
        Connection c = Database.open(jdbcUrl);
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + TABLE);
            s.execute("CREATE TABLE " + TABLE + " (event_id BIGINT PRIMARY KEY, user_id VARCHAR(32) NOT NULL,"
                    + " seq BIGINT NOT NULL, kind VARCHAR(16) NOT NULL, country VARCHAR(2) NOT NULL,"
                    + " segment VARCHAR(16) NOT NULL, written_by VARCHAR(64) NOT NULL, times_written INTEGER NOT NULL,"
                    + " first_write BIGINT GENERATED ALWAYS AS IDENTITY)");
            c.commit();
            return new EventTable(c, "demo");
        } catch (SQLException e) {
            close(c);
            throw Database.cannotUse(jdbcUrl, e);
        }
    }

    /** Writes a batch of events in one transaction: a row each, or an update of the row a replay finds. */
    void upsert(List<EnrichedEvent> events) throws SQLException {
        Database.insertAll(connection, UPSERT, events, (insert, e) -> {
            insert.setLong(1, e.event().eventId());
            insert.setString(2, e.event().userId());
            insert.setLong(3, e.event().seq());
            insert.setString(4, e.event().kind());
            insert.setString(5, e.country());
            insert.setString(6, e.segment());
            insert.setString(7, writtenBy);
        });
        written.addAndGet(events.size());
    }

    /** The events this instance has written, replays included. */
    long written() {
        return written.get();
    }

    /** The rows in the table. */
    long rows() throws SQLException {
        return query("SELECT count(*) FROM " + TABLE);
    }

    /** What the table says of the events {@code 0 .. events - 1}, once the job has written them. */
    Check check(long events) throws SQLException {
        return new Check(
                events,
                rows(),
                query("SELECT count(*) FROM " + TABLE + " WHERE event_id >= 0 AND event_id < " + events),
                query("SELECT coalesce(sum(times_written), 0) - count(*) FROM " + TABLE),
                query("SELECT count(*) FROM (SELECT first_write, lag(first_write) OVER (PARTITION BY user_id ORDER BY"
                        + " seq) AS previous FROM " + TABLE + ") AS w WHERE previous > first_write"));
    }

    /**
     * The table after a run.
     *
     * @param expected the events produced
     * @param rows the rows in the table
     * @param expectedRows the rows of produced events (each row is one event: the event ID is the key)
     * @param duplicates the writes of an event after its first: events processed twice
     * @param outOfOrder events first written after a later event of the same user
     */
    record Check(long expected, long rows, long expectedRows, long duplicates, long outOfOrder) {

        /** Whether every event produced is in the table, once, and nothing else is. */
        boolean everyEventOnce() {
            return rows == expected && expectedRows == expected;
        }
    }

    private long query(String sql) throws SQLException {
        try {
            return Database.queryLong(connection, sql);
        } finally {
            connection.rollback(); // ends the read's transaction, so the next read sees newer rows
        }
    }

    /**
     * Creates the database a PostgreSQL URL names if it does not exist, through the server's {@code postgres}
     * database.
     */
    private static void createDatabaseIfMissing(String jdbcUrl) throws BadInput {
        try (Connection c = Database.connect(jdbcUrl)) {
            return; // it exists
        } catch (SQLException e) {
            Matcher url = POSTGRES_URL.matcher(jdbcUrl);
            if (!"3D000".equals(e.getSQLState()) || !url.matches()) { // 3D000: no such database
                throw Database.cannotUse(jdbcUrl, e);
            }
            String admin = url.group(1) + "postgres" + url.group(3);
            try (Connection c = Database.connect(admin);
                    Statement s = c.createStatement()) {
                c.setAutoCommit(true);
                s.execute("CREATE DATABASE " + url.group(2));
            } catch (SQLException creating) {
                if (!"42P04".equals(creating.getSQLState())) { // 42P04: created meanwhile by another
                    throw new BadInput(
                            "cannot create the database " + Database.describe(jdbcUrl) + ": " + creating.getMessage());
                }
            }
        }
    }

    @Override
    public void close() {
        close(connection);
    }

    private static void close(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // closing is best effort: the connection is not used again
        }
    }
}
