package dev.sluice.pipeline.audit;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A DataSource in front of a real one that fails the way databases do: unreachable (no connection at all), a batch that
 * fails half-way (an insert fails, the transaction is rolled back), or a commit that succeeds while its acknowledgement
 * is lost (the caller sees an exception, the rows are there); or that is slow.
 */
final class FlakyDataSource implements DataSource {
    private final DataSource real;
    volatile boolean down;
    /** Every n-th insert (a statement the sink writes a batch's rows with) fails before it runs (0: never). */
    volatile int failEveryNthBatch;
    /** Every n-th commit goes through and then throws, as if the acknowledgement were lost (0: never). */
    volatile int loseEveryNthCommitAck;
    /** How long every insert takes at least, in milliseconds: a store that is slow, but up (0: as fast as it is). */
    volatile int slowInsertMillis;
    /** Counted down as the first insert starts. */
    final java.util.concurrent.CountDownLatch batchStarted = new java.util.concurrent.CountDownLatch(1);

    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger refused = new AtomicInteger();
    final AtomicInteger batches = new AtomicInteger();
    final AtomicInteger commits = new AtomicInteger();
    final AtomicInteger lostAcks = new AtomicInteger();

    /** Idle connections, when pooling: closing a connection puts it back here, as a pool does. */
    private final ConcurrentLinkedQueue<Connection> idle;

    FlakyDataSource(DataSource real) {
        this(real, false);
    }

    private FlakyDataSource(DataSource real, boolean pooled) {
        this.real = real;
        this.idle = pooled ? new ConcurrentLinkedQueue<>() : null;
    }

    /**
     * One that keeps the connections it handed out and hands them out again, as the pool a production writer would
     * sit on; during an outage it hands out none.
     */
    static FlakyDataSource pooled(DataSource real) {
        return new FlakyDataSource(real, true);
    }

    @Override
    public Connection getConnection() throws SQLException {
        if (down) {
            refused.incrementAndGet();
            throw new SQLTransientConnectionException("connection refused (simulated outage)", "08001");
        }
        connections.incrementAndGet();
        Connection c = idle == null ? null : idle.poll();
        if (c == null || c.isClosed()) {
            c = real.getConnection();
        }
        return (Connection) Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {Connection.class}, connectionHandler(c));
    }

    private InvocationHandler connectionHandler(Connection c) {
        return (proxy, method, args) -> {
            if (idle != null && method.getName().equals("close")) {
                if (!c.isClosed()) {
                    idle.add(c);
                }
                return null;
            }
            if (method.getName().equals("commit")) {
                invoke(c, method, args);
                int n = loseEveryNthCommitAck;
                if (n > 0 && commits.incrementAndGet() % n == 0) {
                    lostAcks.incrementAndGet();
                    throw new SQLException("connection reset after commit (simulated lost acknowledgement)", "08006");
                }
                return null;
            }
            Object result = invoke(c, method, args);
            if (method.getName().equals("prepareStatement") && result instanceof PreparedStatement ps) {
                return Proxy.newProxyInstance(
                        getClass().getClassLoader(),
                        new Class<?>[] {PreparedStatement.class},
                        statementHandler(ps, String.valueOf(args[0])));
            }
            return result;
        };
    }

    private InvocationHandler statementHandler(PreparedStatement ps, String sql) {
        boolean insert = sql.startsWith("INSERT");
        return (proxy, method, args) -> {
            if (insert
                    && (method.getName().equals("executeUpdate")
                            || method.getName().equals("executeBatch"))) {
                batchStarted.countDown();
                int slow = slowInsertMillis;
                if (slow > 0) {
                    Thread.sleep(slow); // simulated latency of a busy database, not a synchronisation
                }
                int n = failEveryNthBatch;
                if (n > 0 && batches.incrementAndGet() % n == 0) {
                    throw new SQLException("connection lost in the middle of a batch (simulated)", "08006");
                }
            }
            return invoke(ps, method, args);
        };
    }

    private static Object invoke(Object target, java.lang.reflect.Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException();
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
        return 0;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return false;
    }
}
