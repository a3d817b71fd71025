package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.Emitter;
import dev.sluice.pipeline.Source;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** {@link Source#from(Iterable)}, {@link Source#of} and {@link Source#range}: a fresh iterator per run. */
public final class IterableSource<T> implements Source<T>, BatchedSource<T> {
    private final Iterable<? extends T> items;
    private final boolean inMemory;

    public IterableSource(Iterable<? extends T> items, boolean inMemory) {
        this.items = items;
        this.inMemory = inMemory;
    }

    @Override
    public void produce(Emitter<T> emitter) throws InterruptedException {
        for (T item : items) {
            emitter.emit(item);
        }
    }

    @Override
    public boolean batches() {
        return inMemory;
    }

    @Override
    public void produceBatches(Emitter<T> out, int batchSize) throws InterruptedException {
        List<T> group = new ArrayList<>(batchSize);
        Iterator<? extends T> it = items.iterator();
        while (it.hasNext()) {
            T item = it.next();
            if (item == null) {
                throw new NullPointerException("the source's iterable produced a null item");
            }
            group.add(item);
            if (group.size() == batchSize) {
                out.emitAll(group);
                group.clear();
            }
        }
        if (!group.isEmpty()) {
            out.emitAll(group);
        }
    }
}
