package dev.sluice.pipeline.benchmarks;

/**
 * The two operations every benchmark needs from a bounded queue: a send that waits while it is full and a
 * receive that waits while it is empty. One adapter per peer ({@link LinkKind}) lets a single workload loop drive
 * Sluice and its peers alike, so they are measured by the same code. A forked JMH run uses one kind only, so the
 * call sites stay monomorphic and the JIT inlines the adapter away.
 *
 * @param <T> the type of the items
 */
interface Link<T> {

    /** Sends an item, waiting while the link is full. */
    void send(T item) throws InterruptedException;

    /** Takes the next item, waiting while the link is empty. */
    T receive() throws InterruptedException;
}
