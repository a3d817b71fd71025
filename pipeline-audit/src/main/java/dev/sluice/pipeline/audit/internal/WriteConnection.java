package dev.sluice.pipeline.audit.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;

/**
 * One connection kept open for writing, for a sink that opens its own connections (no pool in front). It saves a
 * connection per batch, and for SQLite far more: closing the last connection to a WAL database checkpoints the whole
 * log into the database file, which an open connection defers to SQLite's automatic checkpoints.
 *
 * <p>Used by one writer at a time: {@link #lock()} before, {@link #unlock()} after. A connection that failed is closed
 * and forgotten ({@link #discard()}); the next use opens a fresh one.
 */
public final class WriteConnection implements AutoCloseable {
    private final DataSource dataSource;
    private final ReentrantLock lock = new ReentrantLock();
    private Connection connection; // guarded by lock

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
            connection = dataSource.getConnection();
        }
        return connection;
    }

    /** Whether {@link #get()} would open a new connection. Call with the lock held. */
    public boolean isFresh() throws SQLException {
        return connection == null || connection.isClosed();
    }

    /** Closes and forgets the connection after a failure. Call with the lock held. */
    public void discard() {
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
