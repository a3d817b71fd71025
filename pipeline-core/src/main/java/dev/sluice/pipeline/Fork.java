package dev.sluice.pipeline;

import java.util.Optional;

/**
 * A task forked in a {@link Scope}, running on its own thread. Thread-safe; every method returns at once.
 *
 * @param <T> the type of the task's result
 */
public interface Fork<T> {

    /** The fork's name, also the suffix of its thread's name. */
    String name();

    /** Whether the task has finished, normally or not. */
    boolean isDone();

    /**
     * The task's result.
     *
     * @throws IllegalStateException if the task has not finished, or did not finish normally; the message says
     *     which, and a failure is attached as the cause
     */
    T result();

    /** The exception the task ended with, if it has ended with one. */
    Optional<Throwable> failure();
}
