package dev.sluice.pipeline.audit.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link WriteConnection}: one connection kept for writing, and the statements last used kept open on it. */
class WriteConnectionTest {

    @TempDir
    Path dir;

    private final AtomicInteger prepared = new AtomicInteger();
    private final List<Connection> opened = new ArrayList<>();
    private WriteConnection write;

    @BeforeEach
    void open() {
        write = new WriteConnection(
                countingPrepares(new DriverManagerDataSource("jdbc:sqlite:" + dir.resolve("w.db"))));
    }

    @AfterEach
    void close() {
        write.close();
    }

    @Test
    void aStatementUsedAgainIsPreparedOnce() throws SQLException {
        underLock(() -> {
            Connection c = write.get();
            PreparedStatement first = write.prepare(c, "select one", () -> "SELECT 1");
            write.release(first);
            PreparedStatement again = write.prepare(c, "select one", () -> "SELECT 1");

            assertThat(again).isSameAs(first);
            assertThat(again.isClosed()).isFalse();
            assertThat(returnsARow(again)).isTrue();
            assertThat(prepared).hasValue(1);
        });
    }

    @Test
    void beyondFourTheStatementUsedLeastRecentlyIsClosed() throws SQLException {
        underLock(() -> {
            Connection c = write.get();
            List<PreparedStatement> statements = new ArrayList<>();
            for (int i = 1; i <= 4; i++) {
                int n = i;
                statements.add(write.prepare(c, n, () -> "SELECT " + n));
            }
            write.prepare(c, 1, () -> "SELECT 1"); // used again: now 2 is the least recently used
            PreparedStatement fifth = write.prepare(c, 5, () -> "SELECT 5");

            assertThat(statements.get(1).isClosed()).isTrue();
            assertThat(statements.get(0).isClosed()).isFalse();
            assertThat(statements.get(2).isClosed()).isFalse();
            assertThat(statements.get(3).isClosed()).isFalse();
            assertThat(fifth.isClosed()).isFalse();
            assertThat(write.prepare(c, 2, () -> "SELECT 2")).isNotSameAs(statements.get(1));
            assertThat(prepared).hasValue(6);
        });
    }

    @Test
    void aDiscardedConnectionTakesItsStatementsWithItAndTheNextUseStartsAfresh() throws SQLException {
        underLock(() -> {
            Connection c = write.get();
            PreparedStatement kept = write.prepare(c, "k", () -> "SELECT 1");
            write.discard();

            assertThat(kept.isClosed()).isTrue();
            assertThat(c.isClosed()).isTrue();
            assertThat(write.isFresh()).isTrue();
            Connection fresh = write.get();
            assertThat(fresh).isNotSameAs(c);
            PreparedStatement anew = write.prepare(fresh, "k", () -> "SELECT 1");
            assertThat(anew).isNotSameAs(kept);
            assertThat(returnsARow(anew)).isTrue();
            assertThat(prepared).hasValue(2);
        });
    }

    @Test
    void aConnectionClosedElsewhereIsReplacedAndItsStatementsAreNotReused() throws SQLException {
        underLock(() -> {
            Connection c = write.get();
            PreparedStatement kept = write.prepare(c, "k", () -> "SELECT 1");
            c.close();

            Connection fresh = write.get();
            assertThat(fresh).isNotSameAs(c);
            assertThat(write.prepare(fresh, "k", () -> "SELECT 1")).isNotSameAs(kept);
            assertThat(opened).hasSize(2);
        });
    }

    @Test
    void statementsAreKeptOnlyForTheWriteConnectionUnderItsLock() throws SQLException {
        Connection c;
        write.lock();
        try {
            c = write.get();
        } finally {
            write.unlock();
        }
        assertThatThrownBy(() -> write.prepare(c, "k", () -> "SELECT 1"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("held: false");
        write.lock();
        try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("other.db"))) {
            assertThatThrownBy(() -> write.prepare(other, "k", () -> "SELECT 1"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("the write connection: false");
        } finally {
            write.unlock();
        }
    }

    /** Runs {@code work} with the write connection's lock held, as the sink does. */
    private void underLock(Dialect.SqlWork work) throws SQLException {
        write.lock();
        try {
            work.run();
        } finally {
            write.unlock();
        }
    }

    private static boolean returnsARow(PreparedStatement ps) throws SQLException {
        try (ResultSet rows = ps.executeQuery()) {
            return rows.next();
        }
    }

    /** {@code real}, counting the statements its connections prepare and keeping the connections it opened. */
    private DataSource countingPrepares(DriverManagerDataSource real) {
        return (DataSource) Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
                    Object result = invoke(real, method, args);
                    if (result instanceof Connection c) {
                        opened.add(c);
                        return Proxy.newProxyInstance(
                                getClass().getClassLoader(), new Class<?>[] {Connection.class}, (p, m, a) -> {
                                    if (m.getName().equals("prepareStatement")) {
                                        prepared.incrementAndGet();
                                    }
                                    return invoke(c, m, a);
                                });
                    }
                    return result;
                });
    }

    private static Object invoke(Object target, java.lang.reflect.Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
