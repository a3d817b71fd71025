package dev.sluice.pipeline.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs the threads of one benchmark invocation and waits for all of them. A thread that throws interrupts the
 * others and its exception is rethrown; a run that does not end within {@link #TIMEOUT_SECONDS} (a lost wake-up,
 * a deadlock) fails with the stacks of the threads still running, instead of hanging the benchmark.
 */
final class Workers {

    /** Far beyond any healthy invocation here (the slowest takes about a second). */
    static final long TIMEOUT_SECONDS = 120;

    /** A thread body that may throw. */
    @FunctionalInterface
    interface Body {
        void run() throws Exception;
    }

    private final ThreadKind kind;
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    Workers(ThreadKind kind) {
        this.kind = kind;
    }

    /** Adds a thread, not yet started. */
    Workers add(String name, Body body) {
        threads.add(kind.unstarted(name, () -> {
            try {
                body.run();
            } catch (Throwable t) {
                if (failure.compareAndSet(null, t)) {
                    interruptAll();
                } else if (!(t instanceof InterruptedException)) {
                    failure.get().addSuppressed(t);
                }
            }
        }));
        return this;
    }

    /** The threads added so far, in order, not yet started until {@link #runAll()}. */
    List<Thread> threads() {
        return List.copyOf(threads);
    }

    /** Starts every thread and waits until all have ended; rethrows the first failure. */
    void runAll() throws InterruptedException {
        for (Thread t : threads) {
            t.start();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        try {
            for (Thread t : threads) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !t.join(java.time.Duration.ofNanos(left))) {
                    throw stuck();
                }
            }
        } catch (InterruptedException e) {
            interruptAll();
            throw e;
        }
        Throwable t = failure.get();
        if (t != null) {
            throw new IllegalStateException("a benchmark thread failed: " + t, t);
        }
    }

    private IllegalStateException stuck() {
        StringBuilder b = new StringBuilder("benchmark threads still running after " + TIMEOUT_SECONDS + " s"
                + " (a lost wake-up or a deadlock?):");
        for (Thread t : threads) {
            if (t.isAlive()) {
                b.append("\n  ").append(t.getName()).append(" ").append(t.getState());
                for (StackTraceElement e : t.getStackTrace()) {
                    b.append("\n    at ").append(e);
                }
            }
        }
        interruptAll();
        return new IllegalStateException(b.toString());
    }

    private void interruptAll() {
        for (Thread t : threads) {
            t.interrupt();
        }
    }
}
