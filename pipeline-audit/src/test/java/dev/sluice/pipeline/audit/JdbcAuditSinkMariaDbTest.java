package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What is particular to MariaDB; {@link JdbcAuditSinkTest} runs the behaviour every store shares. */
@Timeout(60)
class JdbcAuditSinkMariaDbTest {

    private DataSource dataSource;
    private String table;

    @BeforeEach
    void connect() {
        dataSource = MariaDb.dataSource();
        table = Postgres.uniqueTable("sink_test");
    }

    @AfterEach
    void dropTable() throws SQLException {
        JdbcStore.MARIADB.dropTable(dataSource, table);
    }

    @Test
    void theJsonIsQueryableWithTheDatabasesOwnOperators() throws SQLException {
        JdbcAuditSink.forDataSource(dataSource)
                .withTable(table)
                .write(List.of(Events.everyFieldSet(), Events.finished("json", 1)));
        String t = "`" + table + "`";

        assertThat(strings("SELECT JSON_VALUE(audit_data, '$.additionalData.userId') FROM " + t
                        + " WHERE JSON_VALUE(audit_data, '$.retries') = 3"))
                .containsExactly("SystemUser");
        assertThat(strings(
                        "SELECT correlation_id FROM " + t + " WHERE JSON_CONTAINS(audit_data, ?, '$.additionalData')",
                        "{\"nested\": {\"level\": 2}}"))
                .hasSize(1);
        assertThat(strings("SELECT JSON_EXTRACT(audit_data, '$.additionalData.list[1]') FROM " + t
                        + " WHERE event_type = 'gRPC:Streaming'"))
                .containsExactly("\"two\"");
    }

    @Test
    void theTableUsesUtf8mb4WithABinaryCollationAndDatetimeInMilliseconds() throws SQLException {
        JdbcAuditSink.forDataSource(dataSource).withTable(table).createSchema();

        assertThat(strings(
                        "SELECT CONCAT(column_name, ' ', column_type, ' ', COALESCE(collation_name, '-'))"
                                + " FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?"
                                + " AND column_name IN ('correlation_id', 'created_date') ORDER BY column_name",
                        table))
                .containsExactly("correlation_id varchar(512) utf8mb4_bin", "created_date datetime(3) -");
    }

    private List<String> strings(String sql, Object... params) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }
}
