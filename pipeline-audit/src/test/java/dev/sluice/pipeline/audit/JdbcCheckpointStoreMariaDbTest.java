package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What is particular to MariaDB in {@link JdbcCheckpointStore}: a database whose default character set is latin1,
 * and a table created by the store's DDL of before names matched exactly (the name in the database's default
 * collation), which the store converts, or names the statement to run when its login may not. Each test has a database of its own, as the table's
 * name is fixed; {@link JdbcCheckpointStoreTest} runs what every database shares.
 */
@Timeout(60)
class JdbcCheckpointStoreMariaDbTest {

    private static final String LATIN1_DATABASE = "sluice_test_checkpoints_latin1";
    private static final String NO_ALTER_USER = "sluice_checkpoints_no_alter";

    /** The store's DDL of before: the name column in the database's default character set and collation. */
    private static final String OLD_DDL = "CREATE TABLE " + JdbcCheckpointStore.TABLE
            + " (name VARCHAR(255) NOT NULL PRIMARY KEY, position BIGINT NOT NULL, updated_at BIGINT NOT NULL)";

    private static final String ALTER = "ALTER TABLE sluice_checkpoints MODIFY name VARCHAR(255)"
            + " CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL";

    private final DataSource admin = MariaDb.dataSource();

    @AfterEach
    void dropDatabaseAndUser() throws SQLException {
        MariaDb.execute(
                admin,
                "DROP DATABASE IF EXISTS " + LATIN1_DATABASE,
                "DROP USER IF EXISTS '" + NO_ALTER_USER + "'@'127.0.0.1'");
    }

    /** A new database whose default character set is latin1, case- and accent-insensitive: MariaDB's own default. */
    private DataSource latin1Database() throws SQLException {
        MariaDb.execute(
                admin,
                "DROP DATABASE IF EXISTS " + LATIN1_DATABASE,
                "CREATE DATABASE " + LATIN1_DATABASE + " CHARACTER SET latin1 COLLATE latin1_swedish_ci");
        return MariaDb.onDatabase("root", LATIN1_DATABASE);
    }

    @Test
    void aNewTableOnALatin1DatabaseMatchesNamesExactlyAndHoldsAnyName() throws SQLException {
        // given
        DataSource ds = latin1Database();
        JdbcCheckpointStore store = JdbcCheckpointStore.forDataSource(ds);
        // when
        store.save("Orders.csv", 5);
        store.save("заказы-✓-📦", 6);
        store.save("товары-✓-📦", 7);
        store.save("job ", 8);
        // then
        assertThat(nameColumn(ds)).isEqualTo("utf8mb4 utf8mb4_nopad_bin");
        assertThat(store.load("orders.csv")).isEmpty();
        assertThat(store.load("Orders.csv")).hasValue(5);
        assertThat(store.load("заказы-✓-📦")).hasValue(6);
        assertThat(store.load("товары-✓-📦")).hasValue(7);
        assertThat(store.load("job")).isEmpty();
        assertThat(store.load("job ")).hasValue(8);
        assertThat(names(ds)).containsExactlyInAnyOrder("Orders.csv", "заказы-✓-📦", "товары-✓-📦", "job ");
    }

    @Test
    void aTableOfTheOldDdlIsConvertedAtFirstUseKeepingItsCheckpoints() throws SQLException {
        // given: the table as the store created it before, with a checkpoint saved then
        DataSource ds = latin1Database();
        MariaDb.execute(
                ds,
                OLD_DDL,
                "INSERT INTO " + JdbcCheckpointStore.TABLE
                        + " (name, position, updated_at) VALUES ('Orders.csv', 5, 0)");
        assertThat(nameColumn(ds)).isEqualTo("latin1 latin1_swedish_ci");

        try (LogCapture log = LogCapture.of(JdbcCheckpointStore.class)) {
            // when
            JdbcCheckpointStore store = JdbcCheckpointStore.forDataSource(ds);
            // then: the old checkpoint is found under its own name only
            assertThat(store.load("Orders.csv")).hasValue(5);
            assertThat(store.load("orders.csv")).isEmpty();
            assertThat(log.messages())
                    .singleElement(STRING)
                    .contains("table sluice_checkpoints", "latin1_swedish_ci", "utf8mb4_nopad_bin");
        }

        // and: names now match exactly, and any name fits
        JdbcCheckpointStore store = JdbcCheckpointStore.forDataSource(ds);
        store.save("orders.csv", 7);
        store.save("Orders.csv ", 8);
        store.save("заказы-✓-📦", 9);
        assertThat(nameColumn(ds)).isEqualTo("utf8mb4 utf8mb4_nopad_bin");
        assertThat(store.load("Orders.csv")).hasValue(5);
        assertThat(store.load("orders.csv")).hasValue(7);
        assertThat(store.load("Orders.csv ")).hasValue(8);
        assertThat(store.load("заказы-✓-📦")).hasValue(9);
        assertThat(store.load("ЗАКАЗЫ-✓-📦")).isEmpty();
    }

    @Test
    void aLoginThatMayNotConvertAnOldTableFailsNamingTheTableAndTheStatementToRun() throws SQLException {
        // given: the old table, and a login that may use it and create tables but not alter them
        DataSource ds = latin1Database();
        MariaDb.execute(
                ds,
                OLD_DDL,
                "INSERT INTO " + JdbcCheckpointStore.TABLE
                        + " (name, position, updated_at) VALUES ('Orders.csv', 5, 0)");
        MariaDb.execute(
                admin,
                "CREATE USER IF NOT EXISTS '" + NO_ALTER_USER + "'@'127.0.0.1'",
                "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE ON " + LATIN1_DATABASE + ".* TO '" + NO_ALTER_USER
                        + "'@'127.0.0.1'");
        JdbcCheckpointStore store =
                JdbcCheckpointStore.forDataSource(MariaDb.onDatabase(NO_ALTER_USER, LATIN1_DATABASE));

        // when, then: every call fails, rather than resume one job at another's position
        for (int attempt = 0; attempt < 2; attempt++) {
            assertThatThrownBy(() -> store.load("orders.csv"))
                    .isInstanceOf(AuditStoreException.class)
                    .hasMessageContaining("loading checkpoint 'orders.csv' failed: table sluice_checkpoints")
                    .hasMessageContaining("latin1_swedish_ci")
                    .hasMessageEndingWith("run as a user who may alter it: " + ALTER);
        }
        assertThatThrownBy(() -> store.save("orders.csv", 1)).isInstanceOf(AuditStoreException.class);
        assertThat(names(ds)).containsExactly("Orders.csv");

        // when: an administrator runs the statement the message names
        MariaDb.execute(ds, ALTER);

        // then: the same store works
        assertThat(store.load("orders.csv")).isEmpty();
        assertThat(store.load("Orders.csv")).hasValue(5);
    }

    /** The name column's character set and collation. */
    private static String nameColumn(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT CONCAT(character_set_name, ' ', collation_name)"
                        + " FROM information_schema.columns"
                        + " WHERE table_schema = DATABASE() AND table_name = ? AND column_name = 'name'");
                ResultSet rs = bind(ps, JdbcCheckpointStore.TABLE).executeQuery()) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** The names stored, as the database holds them. */
    private static List<String> names(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT name FROM " + JdbcCheckpointStore.TABLE);
                ResultSet rs = ps.executeQuery()) {
            List<String> names = new ArrayList<>();
            while (rs.next()) {
                names.add(rs.getString(1));
            }
            return names;
        }
    }

    private static PreparedStatement bind(PreparedStatement ps, String value) throws SQLException {
        ps.setString(1, value);
        return ps;
    }
}
