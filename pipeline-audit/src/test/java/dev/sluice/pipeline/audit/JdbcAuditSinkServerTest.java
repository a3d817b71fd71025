package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * What the database servers offer beyond a file (a named schema, roles without DDL rights), run against each of them.
 */
@Timeout(60)
@ParameterizedClass(name = "{0}")
@EnumSource(
        value = JdbcStore.class,
        names = {"POSTGRESQL", "MARIADB"})
class JdbcAuditSinkServerTest {

    /** A schema (a database, for MariaDB) of the tests' own. */
    private static final String SCHEMA = "sluice_audit_schema_test";
    /** A login that may read and write rows of the audit table, and nothing more. */
    private static final String DML_USER = "sluice_audit_dml";

    private final JdbcStore store;

    @TempDir
    Path dir;

    private DataSource admin;
    private String table;

    JdbcAuditSinkServerTest(JdbcStore store) {
        this.store = store;
    }

    @BeforeEach
    void connect() {
        admin = store.dataSource(dir);
        table = Postgres.uniqueTable("server_test");
    }

    @AfterEach
    void dropTables() throws SQLException {
        store.dropTable(admin, table);
        execute(admin, "DROP TABLE IF EXISTS " + store.quote(SCHEMA) + "." + store.quote(table));
    }

    @Test
    void theTableLivesInTheNamedSchema() throws SQLException {
        // given a schema of its own
        execute(admin, (store == JdbcStore.MARIADB ? "CREATE DATABASE" : "CREATE SCHEMA") + " IF NOT EXISTS " + SCHEMA);

        // when a sink in that schema writes
        JdbcAuditSink sink =
                JdbcAuditSink.forDataSource(admin).withSchema(SCHEMA).withTable(table);
        AuditEvent event = Events.finished("schema", 1);
        sink.write(List.of(event));

        // then the row is in that schema's table, none in the connection's own, and the sink reads it back
        assertThat(sink.table()).isEqualTo(SCHEMA + "." + table);
        assertThat(count(store.quote(SCHEMA) + "." + store.quote(table))).isEqualTo(1);
        assertThat(exists(store.quote(table))).isFalse();
        assertThat(sink.findByCorrelationId(event.correlationId())).containsExactly(event);
    }

    @Test
    void aLoginWithoutDdlRightsWritesToATableCreatedBeforehand() throws SQLException {
        // given the table created by an administrator, and a login that may only select, insert and update its rows
        JdbcAuditSink.forDataSource(admin).withTable(table).createSchema();
        DataSource dml = grantDmlOnly();
        assertThatThrownBy(() -> execute(dml, "CREATE TABLE " + store.quote(table + "_x") + " (i int)"))
                .as("the login has no DDL rights")
                .isInstanceOf(SQLException.class);

        // when a sink on that login, with schema creation off, writes a run's running and finished events
        JdbcAuditSink sink = JdbcAuditSink.forDataSource(dml).withTable(table).withSchemaCreation(false);
        AuditEvent started = AuditEvent.started("dml:Run", "job", "dml-" + UUID.randomUUID(), Events.BASE, null);
        AuditEvent done = started.completed(Events.BASE.plusSeconds(2), 5, true, null);
        sink.createSchema();
        sink.write(List.of(started));
        sink.write(List.of(done));
        sink.write(List.of(started)); // a late replay of the running event

        // then the row holds the finished event
        assertThat(sink.findByCorrelationId(started.correlationId())).containsExactly(done);
    }

    private DataSource grantDmlOnly() throws SQLException {
        if (store == JdbcStore.MARIADB) {
            execute(
                    admin,
                    "CREATE USER IF NOT EXISTS '" + DML_USER + "'@'127.0.0.1'",
                    "GRANT SELECT, INSERT, UPDATE ON " + MariaDb.DATABASE + "." + store.quote(table) + " TO '"
                            + DML_USER + "'@'127.0.0.1'");
            return MariaDb.dataSource(DML_USER);
        }
        execute(
                admin,
                "DO $$ BEGIN CREATE ROLE " + DML_USER + " LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
                "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
                "GRANT SELECT, INSERT, UPDATE ON " + store.quote(table) + " TO " + DML_USER);
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] {"127.0.0.1"});
        ds.setPortNumbers(new int[] {Postgres.PORT});
        ds.setDatabaseName(Postgres.DATABASE);
        ds.setUser(DML_USER);
        ds.setConnectTimeout(5);
        return ds;
    }

    private long count(String qualifiedTable) throws SQLException {
        try (Connection c = admin.getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM " + qualifiedTable)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private boolean exists(String quotedTable) {
        try {
            count(quotedTable);
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    private static void execute(DataSource ds, String... sql) throws SQLException {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            for (String statement : sql) {
                s.execute(statement);
            }
        }
    }
}
