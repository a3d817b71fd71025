package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.Emitter;
import java.util.List;

/**
 * What Sluice's own sources use besides {@link dev.sluice.pipeline.Emitter}: a hand-over of items that the source
 * has already taken from its input (a channel, a publisher, a gRPC call), delivered even during a graceful stop.
 */
public interface SourceOutput<T> {

    /**
     * Sends every item downstream, waiting for room; an interrupt (a graceful stop) does not end it early but is
     * restored when it returns. Ends early only when the run aborts or finishes early.
     *
     * @throws InterruptedException if the run is aborting or has finished early (the link is failed)
     */
    void handOver(List<T> items) throws InterruptedException;

    /**
     * Hands {@code items} over through {@code out}: with {@link #handOver} when {@code out} is a Sluice source
     * stage (always, in a run), else with {@link Emitter#emitAll}.
     */
    @SuppressWarnings("unchecked")
    static <T> void handOver(Emitter<T> out, List<T> items) throws InterruptedException {
        if (out instanceof SourceOutput<?> output) {
            ((SourceOutput<T>) output).handOver(items);
        } else {
            out.emitAll(items);
        }
    }
}
