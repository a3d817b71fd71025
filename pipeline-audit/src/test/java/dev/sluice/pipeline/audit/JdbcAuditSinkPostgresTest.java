package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The JDBC store contract on the local PostgreSQL, and what is particular to PostgreSQL. */
class JdbcAuditSinkPostgresTest extends JdbcAuditSinkContract {

    private DataSource dataSource;
    private String table;

    @BeforeEach
    void connect() {
        dataSource = Postgres.dataSource();
        table = Postgres.uniqueTable("sink_test");
    }

    @AfterEach
    void dropTable() throws SQLException {
        Postgres.dropTable(dataSource, table);
    }

    @Override
    DataSource dataSource() {
        return dataSource;
    }

    @Override
    String table() {
        return table;
    }

    @Override
    void refusePoison() throws SQLException {
        Refusing.postgresCheck(dataSource, table);
    }

    @Override
    String refusalSqlState() {
        return "23514";
    }

    @Override
    long createdDateMillis(UUID eventId) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps =
                        c.prepareStatement("SELECT created_date FROM \"" + table + "\" WHERE event_id = ?")) {
            ps.setObject(1, eventId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getObject(1, OffsetDateTime.class).toInstant().toEpochMilli();
            }
        }
    }

    @Override
    @Test
    void theJsonIsQueryableWithTheDatabasesOwnOperators() throws SQLException {
        sink().write(List.of(Events.everyFieldSet(), Events.finished("json", 1)));
        String t = "\"" + table + "\"";

        assertThat(strings("SELECT pg_typeof(audit_data)::text FROM " + t + " LIMIT 1"))
                .containsExactly("jsonb");
        assertThat(strings("SELECT audit_data -> 'additionalData' ->> 'userId' FROM " + t
                        + " WHERE (audit_data ->> 'retries')::int = 3"))
                .containsExactly("SystemUser");
        assertThat(strings(
                        "SELECT correlation_id FROM " + t + " WHERE audit_data @> CAST(? AS jsonb)",
                        "{\"additionalData\": {\"nested\": {\"level\": 2}}}"))
                .hasSize(1);
        assertThat(strings("SELECT jsonb_array_elements(audit_data #> '{additionalData,list}')::text FROM " + t))
                .containsExactly("1", "\"two\"", "3.5", "true");
    }

    @Test
    void concurrentSchemaCreationIsHarmless() throws Exception {
        // given several sinks on one new table, created at once (CREATE IF NOT EXISTS alone races in PostgreSQL)
        List<Thread> threads = new java.util.ArrayList<>();
        java.util.concurrent.ConcurrentLinkedQueue<Throwable> failures =
                new java.util.concurrent.ConcurrentLinkedQueue<>();
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        for (int i = 0; i < 6; i++) {
            int n = i;
            threads.add(Thread.ofVirtual().start(() -> {
                try {
                    go.await();
                    sink().write(List.of(Events.finished("concurrent", n)));
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }

        // when they all go
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }

        // then none failed and every event is there
        assertThat(failures).isEmpty();
        assertThat(count("")).isEqualTo(6);
    }

    @Test
    void anUnreachableServerGivesAClearStoreException() {
        JdbcAuditSink down = JdbcAuditSink.forDataSource(Postgres.dataSource(1)).withTable(table);

        assertThatThrownBy(() -> down.write(List.of(Events.finished("down", 1))))
                .isInstanceOf(AuditStoreException.class)
                .hasMessageContaining("writing 1 audit events")
                .hasMessageContaining("failed")
                .hasCauseInstanceOf(SQLException.class);
    }
}
