package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The table name is the one identifier spliced into SQL: anything but a plain lowercase name is refused. */
@Timeout(10)
class TableNameTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(
            strings = {
                "audit_logs; DROP TABLE users",
                "audit_logs\"; DROP TABLE users; --",
                "audit logs",
                "Audit_Logs",
                "1audit",
                "",
                " ",
                "audit-logs",
                "audit.logs",
                "public.audit_logs",
                "audit_logs--",
                "audit_lögs",
                "audit\u0000logs",
                "audit\nlogs",
                "a_name_that_is_forty_one_characters_long_"
            })
    void aHostileOrUnusualTableNameIsRefusedNamingTheValueAndTheRule(String name) {
        assertThatThrownBy(() -> JdbcAuditSink.sqlite(dir.resolve("t.db")).withTable(name))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("table must be 1 to 40 lowercase letters, digits or underscores, not starting "
                        + "with a digit, got '")
                .hasMessageNotContaining("\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"audit_logs", "_audit", "a", "job_audit_2025", "a_name_that_is_forty_characters_long_xyz"})
    void aPlainLowercaseNameIsTaken(String name) {
        assertThat(JdbcAuditSink.sqlite(dir.resolve("t.db")).withTable(name).table())
                .isEqualTo(name);
    }

    @Test
    void aNullNameIsRefused() {
        assertThatThrownBy(() -> JdbcAuditSink.sqlite(dir.resolve("t.db")).withTable(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("table must not be null");
    }
}
