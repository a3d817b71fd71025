package dev.sluice.pipeline;

import java.util.Optional;

/**
 * A task forked in a {@link Scope}, running on its own thread. Thread-safe; every method returns at once.
 *
 * @param <T> the type of the task's result
 * @since 0.1
 */
public interface Fork<T> {

    /**
     * The fork's name, also the suffix of its thread's name.
     *
     * @return the name given when the task was forked
     */
    String name();

    /**
     * Whether the task has finished, normally or not.
     *
     * @return {@code true} once the task returned or threw; then {@link #result()} or {@link #failure()} has it
     */
    boolean isDone();

    /**
     * The task's result.
     *
     * @return what the task returned
     * @throws IllegalStateException if the task has not finished, or did not finish normally; the message says
     *     which, and a failure is attached as the cause
     */
    T result();

    /**
     * The exception the task ended with, if it has ended with one.
     *
     * @return the task's exception; empty while it runs and after it returned normally
     */
    Optional<Throwable> failure();
}
