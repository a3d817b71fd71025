package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What is particular to PostgreSQL; {@link JdbcAuditSinkTest} runs the behaviour every store shares. */
@Timeout(60)
class JdbcAuditSinkPostgresTest {

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

    private JdbcAuditSink sink() {
        return JdbcAuditSink.forDataSource(dataSource).withTable(table);
    }

    private List<String> strings(String sql, Object... params) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            List<String> out = new java.util.ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }

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
    void aSinkWithConnectionsOfItsOwnWritesOnSeveralOfThemAtOnce() throws Exception {
        // given a sink that keeps its own connections, and an event of its table whose row another transaction locks
        // (closed in reverse: the row's lock first, so that a write still waiting for it ends)
        try (ExecutorService threads =
                        Executors.newThreadPerTaskExecutor(Thread.ofPlatform().factory());
                JdbcAuditSink own = JdbcAuditSink.forUrl(Postgres.jdbcUrl()).withTable(table);
                Connection holder = dataSource.getConnection()) {
            AuditEvent locked = Events.finished("locked", 0);
            own.write(List.of(locked));
            holder.setAutoCommit(false);
            try (PreparedStatement lock =
                    holder.prepareStatement("SELECT 1 FROM \"" + table + "\" WHERE event_id = ? FOR UPDATE")) {
                lock.setObject(1, locked.eventId());
                lock.executeQuery().close();
            }

            // when one thread writes that event again, which waits for the row's lock
            CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> own.write(List.of(locked)), threads);
            Awaitility.await()
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> strings(
                                            "SELECT pid::text FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                                    + " AND datname = current_database() AND position(? in query) > 0",
                                            table)
                                    .size()
                            == 1);

            // then another thread's batch is written meanwhile, on another connection
            CompletableFuture.runAsync(() -> own.write(List.of(Events.finished("free", 1))), threads)
                    .get(20, TimeUnit.SECONDS);
            assertThat(waiting).isNotDone();
            assertThat(strings("SELECT count(*)::text FROM \"" + table + "\"")).containsExactly("2");

            // and the first write completes once the row is free
            holder.rollback();
            waiting.get(20, TimeUnit.SECONDS);
        }
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
