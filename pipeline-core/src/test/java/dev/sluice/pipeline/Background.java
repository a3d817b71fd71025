package dev.sluice.pipeline;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A call running on its own virtual thread, so that a test can watch it block, wake it and read its outcome. */
public final class Background<T> {
    private final CompletableFuture<T> outcome = new CompletableFuture<>();
    private final Thread thread;

    private Background(Callable<T> call) {
        thread = Thread.ofVirtual().name("test-background").start(() -> {
            try {
                outcome.complete(call.call());
            } catch (Throwable t) {
                outcome.completeExceptionally(t);
            }
        });
    }

    public static <T> Background<T> start(Callable<T> call) {
        return new Background<>(call);
    }

    public Thread thread() {
        return thread;
    }

    /** Waits until the thread is parked (WAITING or TIMED_WAITING): the call is blocked. */
    public Background<T> awaitBlocked() {
        await().atMost(Duration.ofSeconds(10))
                .pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(1))
                .until(() -> {
                    Thread.State s = thread.getState();
                    return s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING || outcome.isDone();
                });
        if (outcome.isDone()) {
            throw new AssertionError("expected the call to block, but it ended: " + describe());
        }
        return this;
    }

    public boolean isDone() {
        return outcome.isDone();
    }

    /** The call's result, waiting up to 10 s for it. */
    public T result() throws Exception {
        try {
            return outcome.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception ex) {
                throw ex;
            }
            throw e;
        } catch (TimeoutException e) {
            throw new AssertionError("the call did not end within 10 s; thread state " + thread.getState(), e);
        }
    }

    /** The exception the call ended with, waiting up to 10 s for it. */
    public Throwable failure() throws InterruptedException {
        try {
            T value = outcome.get(10, TimeUnit.SECONDS);
            throw new AssertionError("expected the call to fail, but it returned " + value);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            throw new AssertionError("the call did not end within 10 s; thread state " + thread.getState(), e);
        }
    }

    private String describe() {
        try {
            return String.valueOf(outcome.getNow(null));
        } catch (Exception e) {
            return e.toString();
        }
    }
}
