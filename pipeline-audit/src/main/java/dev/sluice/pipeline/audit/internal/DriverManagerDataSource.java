package dev.sluice.pipeline.audit.internal;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A {@link DataSource} that opens a new connection through {@link DriverManager} each time: enough for SQLite, where
 * opening a connection costs microseconds, and for a store written in batches. The URL may hold a password, so it is
 * never shown in messages beyond its scheme.
 */
public final class DriverManagerDataSource implements DataSource {
    private final String url;
    private volatile int loginTimeoutSeconds;

    public DriverManagerDataSource(String url) {
        this.url = url;
    }

    @Override
    public Connection getConnection() throws SQLException {
        try {
            return DriverManager.getConnection(url);
        } catch (SQLException e) {
            if ("08001".equals(e.getSQLState())
                    && e.getMessage() != null
                    && e.getMessage().startsWith("No suitable driver")) {
                throw new SQLException(
                        "no JDBC driver on the class path accepts " + scheme(url) + " URLs: add "
                                + "org.xerial:sqlite-jdbc for SQLite, org.postgresql:postgresql for PostgreSQL, or "
                                + "org.mariadb.jdbc:mariadb-java-client for MariaDB and MySQL",
                        "08001",
                        e);
            }
            throw e;
        }
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("put the user and password in the JDBC URL");
    }

    /** {@code jdbc:sqlite:} of {@code jdbc:sqlite:/data/app.db}: the part of a URL that is safe to show. */
    public static String scheme(String url) {
        int first = url.indexOf(':');
        int second = first < 0 ? -1 : url.indexOf(':', first + 1);
        return second < 0 ? "such" : url.substring(0, second + 1);
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {
        loginTimeoutSeconds = seconds;
    }

    @Override
    public int getLoginTimeout() {
        return loginTimeoutSeconds;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("no java.util.logging parent logger");
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
        if (type.isInstance(this)) {
            return type.cast(this);
        }
        throw new SQLException("not a wrapper for " + type.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> type) {
        return type.isInstance(this);
    }

    @Override
    public String toString() {
        return "DriverManagerDataSource[" + scheme(url) + "…]";
    }
}
