package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.Emitter;
import dev.sluice.pipeline.Source;
import java.util.Iterator;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/** {@link Source#from(Iterator)} and {@link Source#from(java.util.stream.Stream)}: items that can be read once. */
public final class SingleUseSource<T> implements Source<T> {
    private final Supplier<? extends Iterator<? extends T>> iterator;
    private final String what;
    private final AutoCloseable resource;
    private final AtomicBoolean used = new AtomicBoolean();

    public SingleUseSource(Supplier<? extends Iterator<? extends T>> iterator, String what) {
        this(iterator, what, null);
    }

    public SingleUseSource(Supplier<? extends Iterator<? extends T>> iterator, String what, AutoCloseable resource) {
        this.iterator = iterator;
        this.what = what;
        this.resource = resource;
    }

    @Override
    public void produce(Emitter<T> emitter) throws Exception {
        if (!used.compareAndSet(false, true)) {
            throw new IllegalStateException("a source over " + what + " can run only once; use Source.from(Iterable)"
                    + " or a Source body for a pipeline that runs more than once");
        }
        try {
            Iterator<? extends T> it = iterator.get();
            while (it.hasNext()) {
                emitter.emit(it.next());
            }
        } finally {
            if (resource != null) {
                resource.close();
            }
        }
    }
}
