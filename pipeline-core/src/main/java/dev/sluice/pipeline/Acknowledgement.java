package dev.sluice.pipeline;

/**
 * Told once what became of one source item: the callback a source passes to {@link Emitter#emit(Object,
 * Acknowledgement)}. A run calls it exactly once per item, from whichever of its threads finished the item (the
 * sink's, a filter's, a concurrent stage's worker, the run's coordinator for items left over when it ended), and
 * always before {@link RunnablePipeline#run()} or {@link PipelineHandle#await()} returns.
 *
 * <p>It should be quick and must not block: it runs on a pipeline thread, often the sink's. An exception it throws
 * is logged and otherwise ignored; the run goes on. Typical bodies record the outcome in a
 * {@link PositionTracker}, or count.
 *
 * <p>Incubating: may change in a minor release.
 *
 * @since 0.1
 */
@FunctionalInterface
public interface Acknowledgement {

    /**
     * Reports what became of the item.
     *
     * @param disposition what became of it, never null; {@link Disposition#isComplete()} says whether it needs
     *     replaying
     */
    void done(Disposition disposition);
}
