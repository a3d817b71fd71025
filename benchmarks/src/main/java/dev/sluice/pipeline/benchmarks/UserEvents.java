package dev.sluice.pipeline.benchmarks;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

/**
 * The work of the Kafka demo's consumer job ({@code examples/.../kafka/UserEventsJob}), rebuilt here so the benchmarks
 * do not depend on the examples: its events ({@code eventId,userId,seq,kind}, keyed by user), its enrichment (a
 * blocking call of {@link #LATENCY}, as its {@code ProfileService}), and its table (the same columns, and the same
 * upsert, one JDBC batch in one transaction per batch of events, as its {@code EventTable}). The table lives in the
 * local PostgreSQL ({@link AuditStore#postgresUrl()}), named {@code bench_kafka_events_<random>}.
 */
final class UserEvents {

    /** How long an enrichment takes, in milliseconds: the demo's profile service's latency. */
    static final int LATENCY_MILLIS = 2;

    /** {@link #LATENCY_MILLIS} as a duration. */
    static final Duration LATENCY = Duration.ofMillis(LATENCY_MILLIS);

    private static final String[] KINDS = {"login", "view", "search", "add-to-cart", "purchase", "logout"};
    private static final String[] COUNTRIES = {"DE", "FR", "NL", "PL", "SE", "ES", "IT", "PT"};
    private static final String[] SEGMENTS = {"new", "regular", "loyal"};

    private UserEvents() {}

    /**
     * One event of a user.
     *
     * @param eventId unique across the topic, from 0
     * @param userId the user, also the record's key
     * @param seq the user's events before this one
     * @param kind what the user did
     */
    record Event(long eventId, String userId, long seq, String kind) {

        /** Event {@code eventId} of {@code users} users: user {@code eventId % users}, its event {@code eventId / users}. */
        static Event of(long eventId, int users) {
            return new Event(
                    eventId, "user-" + (eventId % users), eventId / users, KINDS[(int) (eventId % 7 % KINDS.length)]);
        }

        /** The record value. */
        String value() {
            return eventId + "," + userId + "," + seq + "," + kind;
        }

        /** An event from its record value; {@link IllegalArgumentException} if it is not one. */
        static Event parse(String value) {
            String[] fields = value == null ? new String[0] : value.split(",", -1);
            if (fields.length != 4) {
                throw new IllegalArgumentException("not a user event (eventId,userId,seq,kind): '" + value + "'");
            }
            return new Event(Long.parseLong(fields[0]), fields[1], Long.parseLong(fields[2]), fields[3]);
        }
    }

    /**
     * An event with what the profile service knows of its user.
     *
     * @param event the event
     * @param country the user's country
     * @param segment the user's segment
     */
    record Enriched(Event event, String country, String segment) {}

    /** The profile service's call: the event with its user's country and segment; blocks for {@link #LATENCY}. */
    static Enriched enrich(Event event) throws InterruptedException {
        Thread.sleep(LATENCY);
        int hash = event.userId().hashCode();
        return new Enriched(
                event,
                COUNTRIES[Math.floorMod(hash, COUNTRIES.length)],
                SEGMENTS[Math.floorMod(hash, SEGMENTS.length)]);
    }

    /**
     * The job's table: a row per event, written by an upsert that counts replays in {@code times_written}. One
     * connection (auto-commit off) writes, from one thread at a time; the benchmark thread creates, empties, checks
     * and drops the table on it between runs.
     */
    static final class Table implements AutoCloseable {

        private final Connection connection;
        private final String name;
        private final String upsert;

        private Table(Connection connection, String name) {
            this.connection = connection;
            this.name = name;
            this.upsert = "INSERT INTO " + name
                    + " (event_id, user_id, seq, kind, country, segment, written_by, times_written)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, 1)"
                    + " ON CONFLICT (event_id) DO UPDATE SET country = excluded.country, segment = excluded.segment,"
                    + " written_by = excluded.written_by, times_written = " + name + ".times_written + 1";
        }

        /** Creates a table of the job's columns, starting PostgreSQL if it is down. */
        static Table create() throws SQLException {
            AuditStore.ensurePostgresRunning();
            Connection c = DriverManager.getConnection(AuditStore.postgresUrl());
            Table table = new Table(c, AuditStore.uniqueTable("bench_kafka_events"));
            try {
                c.setAutoCommit(false);
                table.execute("CREATE TABLE " + table.name
                        + " (event_id BIGINT PRIMARY KEY, user_id VARCHAR(32) NOT NULL,"
                        + " seq BIGINT NOT NULL, kind VARCHAR(16) NOT NULL, country VARCHAR(2) NOT NULL,"
                        + " segment VARCHAR(16) NOT NULL, written_by VARCHAR(64) NOT NULL,"
                        + " times_written INTEGER NOT NULL, first_write BIGINT GENERATED ALWAYS AS IDENTITY)");
                return table;
            } catch (SQLException e) {
                c.close();
                throw e;
            }
        }

        /** Writes a batch of events in one transaction: a row each, or an update of the row a replay finds. */
        void upsert(List<Enriched> events) throws SQLException {
            try (PreparedStatement insert = connection.prepareStatement(upsert)) {
                for (Enriched e : events) {
                    insert.setLong(1, e.event().eventId());
                    insert.setString(2, e.event().userId());
                    insert.setLong(3, e.event().seq());
                    insert.setString(4, e.event().kind());
                    insert.setString(5, e.country());
                    insert.setString(6, e.segment());
                    insert.setString(7, "bench");
                    insert.addBatch();
                }
                insert.executeBatch();
                connection.commit();
            } catch (SQLException e) {
                connection.rollback();
                throw e;
            }
        }

        /** Empties the table. */
        void clear() throws SQLException {
            execute("TRUNCATE TABLE " + name + " RESTART IDENTITY");
        }

        /**
         * Checks that the table holds events {@code 0 .. events - 1}, each written once, and nothing else, and that
         * each user's events were first written in the order of their {@code seq}; throws
         * {@link IllegalStateException} saying what is wrong if not.
         */
        void checkEveryEventOnce(long events) throws SQLException {
            long rows = query("SELECT count(*) FROM " + name);
            long expected = query("SELECT count(*) FROM " + name + " WHERE event_id >= 0 AND event_id < " + events);
            long writes = query("SELECT coalesce(sum(times_written), 0) FROM " + name);
            if (rows != events || expected != events || writes != events) {
                throw new IllegalStateException("the table holds " + rows + " rows (" + expected + " of the " + events
                        + " events produced) written " + writes + " times in all; expected each event once");
            }
            long outOfOrder = query("SELECT count(*) FROM (SELECT seq, lag(seq) OVER (PARTITION BY user_id"
                    + " ORDER BY first_write) AS before FROM " + name + ") w WHERE before > seq");
            if (outOfOrder != 0) {
                throw new IllegalStateException(outOfOrder + " events were written before an earlier event of their"
                        + " user; expected each user's events in order");
            }
        }

        private long query(String sql) throws SQLException {
            try (Statement s = connection.createStatement();
                    ResultSet r = s.executeQuery(sql)) {
                r.next();
                return r.getLong(1);
            } finally {
                connection.rollback();
            }
        }

        private void execute(String sql) throws SQLException {
            try (Statement s = connection.createStatement()) {
                s.execute(sql);
                connection.commit();
            }
        }

        /** Drops the table and closes the connection. */
        @Override
        public void close() throws SQLException {
            try {
                execute("DROP TABLE IF EXISTS " + name);
            } finally {
                connection.close();
            }
        }
    }
}
