package dev.sluice.pipeline.audit;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * A local database server of the project's machines, checked once per JVM: the first caller of
 * {@link #ensureRunning} starts it if it does not answer, waits up to 60 s for it, and prepares the tests' database;
 * later callers return at once. A test never skips for want of it. Thread-safe.
 */
final class LocalServer {

    private final String name;
    private final BooleanSupplier reachable;
    private final Runnable start;
    private final Runnable prepare;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile boolean checked;

    /**
     * @param name the server's name, for the wait's description
     * @param reachable whether the server accepts connections now
     * @param start starts the server, or throws
     * @param prepare creates what the tests need on a running server, or throws
     */
    LocalServer(String name, BooleanSupplier reachable, Runnable start, Runnable prepare) {
        this.name = name;
        this.reachable = reachable;
        this.start = start;
        this.prepare = prepare;
    }

    void ensureRunning() {
        if (checked) {
            return;
        }
        lock.lock();
        try {
            if (checked) {
                return;
            }
            if (!reachable.getAsBoolean()) {
                start.run();
                await(name + " to accept connections")
                        .atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(250))
                        .until(reachable::getAsBoolean);
            }
            prepare.run();
            checked = true;
        } finally {
            lock.unlock();
        }
    }
}
