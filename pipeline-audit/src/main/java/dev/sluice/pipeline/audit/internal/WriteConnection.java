package dev.sluice.pipeline.audit.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import javax.sql.DataSource;

/**
 * One connection kept open for writing, for a sink that opens its own connections (no pool in front). It saves a
 * connection per batch, and for SQLite far more: closing the last connection to a WAL database checkpoints the whole
 * log into the database file, which an open connection defers to SQLite's automatic checkpoints.
 *
 * <p>It also keeps the {@value #KEPT} statements used last open on that connection ({@link Dialect.Statements}): a writer
 * under load sends full batches, so it prepares their insert once instead of once per batch (which costs the driver,
 * or SQLite, a parse of a statement of thousands of parameters).
 *
 * <p>Used by one writer at a time: {@link #lock()} before, {@link #unlock()} after; the statements too. A connection
 * that failed is closed and forgotten with its statements ({@link #discard()}); the next use opens a fresh one.
 */
public final class WriteConnection implements AutoCloseable, Dialect.Statements {
    private static final int KEPT = 4;

    private final DataSource dataSource;
    private final ReentrantLock lock = new ReentrantLock();
    private Connection connection; // guarded by lock
    /** Statements open on {@link #connection}, least recently used first; guarded by lock. */
    private final Map<Object, PreparedStatement> statements = new LinkedHashMap<>(8, 0.75f, true);

    public WriteConnection(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    public void lock() {
        lock.lock();
    }

    public void unlock() {
        lock.unlock();
    }

    /** The open connection, opened now if there is none. Call with the lock held. */
    public Connection get() throws SQLException {
        if (connection == null || connection.isClosed()) {
            closeStatements();
            connection = dataSource.getConnection();
        }
        return connection;
    }

    /**
     * A statement kept open on the connection, prepared now if it is not. Call with the lock held, with the connection
     * {@link #get()} returned.
     *
     * @throws IllegalStateException if the lock is not held or {@code c} is another connection
     */
    @Override
    public PreparedStatement prepare(Connection c, Object key, Supplier<String> sql) throws SQLException {
        if (!lock.isHeldByCurrentThread() || c != connection) {
            throw new IllegalStateException("statements are kept only for the write connection, under its lock (held: "
                    + lock.isHeldByCurrentThread() + ", the write connection: " + (c == connection) + ")");
        }
        PreparedStatement ps = statements.get(key);
        if (ps == null) {
            ps = c.prepareStatement(sql.get());
            statements.put(key, ps);
            if (statements.size() > KEPT) {
                Iterator<PreparedStatement> eldest = statements.values().iterator();
                closeQuietly(eldest.next());
                eldest.remove();
            }
        }
        return ps;
    }

    /**
     * Keeps {@code ps} open for the next use, its parameters cleared so that it holds no batch's values meanwhile.
     *
     * @throws SQLException if clearing fails (the connection is broken: the caller discards it)
     */
    @Override
    public void release(PreparedStatement ps) throws SQLException {
        ps.clearParameters();
    }

    /** Whether {@link #get()} would open a new connection. Call with the lock held. */
    public boolean isFresh() throws SQLException {
        return connection == null || connection.isClosed();
    }

    /** Closes and forgets the connection after a failure. Call with the lock held. */
    public void discard() {
        closeStatements();
        Connection c = connection;
        connection = null;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException | RuntimeException ignored) {
                // it failed already; what matters is that it is not used again
            }
        }
    }

    private void closeStatements() {
        statements.values().forEach(WriteConnection::closeQuietly);
        statements.clear();
    }

    private static void closeQuietly(PreparedStatement ps) {
        try {
            ps.close();
        } catch (SQLException | RuntimeException ignored) {
            // a statement that cannot close is dropped all the same; closing its connection ends it
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            discard();
        } finally {
            lock.unlock();
        }
    }
}
