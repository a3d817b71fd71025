package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.Acknowledgement;
import dev.sluice.pipeline.Disposition;
import dev.sluice.pipeline.Emitter;
import dev.sluice.pipeline.PositionTracker;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.StageContext;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * A source whose every item is emitted with the acknowledgement of its position in a {@link PositionTracker}.
 * Items the wrapped source hands over ({@link Emitter#handOver}) are emitted one by one with their
 * acknowledgements too: during a graceful stop those are refused and told {@code RELEASED}, so they are replayed
 * from the checkpoint instead of being delivered.
 */
public final class PositionedSource<T> implements Source<T> {
    private final Source<T> source;
    private final ToLongFunction<? super T> position;
    private final PositionTracker tracker;

    public PositionedSource(Source<T> source, ToLongFunction<? super T> position, PositionTracker tracker) {
        this.source = source;
        this.position = position;
        this.tracker = tracker;
    }

    @Override
    public void produce(Emitter<T> out) throws Exception {
        source.produce(new Emitter<>() {
            @Override
            public void emit(T item) throws InterruptedException {
                out.emit(item, tracker.track(position.applyAsLong(item)));
            }

            @Override
            public void emitAll(List<? extends T> items) throws InterruptedException {
                for (T item : items) {
                    emit(item);
                }
            }

            @Override
            public void handOver(List<? extends T> items) throws InterruptedException {
                emitAll(items);
            }

            @Override
            public void emit(T item, Acknowledgement ack) throws InterruptedException {
                Acknowledgement tracked;
                try {
                    tracked = tracker.track(position.applyAsLong(item));
                } catch (RuntimeException | Error refused) {
                    try {
                        ack.done(Disposition.RELEASED); // an emit that throws has released its acknowledgement
                    } catch (RuntimeException | Error inAck) {
                        refused.addSuppressed(inAck);
                    }
                    throw refused;
                }
                out.emit(item, d -> {
                    try {
                        ack.done(d);
                    } finally {
                        tracked.done(d);
                    }
                });
            }

            @Override
            public StageContext context() {
                return out.context();
            }
        });
    }
}
