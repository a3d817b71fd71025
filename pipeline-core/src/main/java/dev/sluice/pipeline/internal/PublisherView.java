package dev.sluice.pipeline.internal;

import java.util.Objects;
import java.util.concurrent.Flow;
import java.util.function.Consumer;

/** {@link dev.sluice.pipeline.Pipeline#toPublisher()}: each subscriber starts its own run. */
public final class PublisherView<T> implements Flow.Publisher<T> {
    private final Consumer<Flow.Subscriber<? super T>> startRun;

    public PublisherView(Consumer<Flow.Subscriber<? super T>> startRun) {
        this.startRun = startRun;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super T> subscriber) {
        Objects.requireNonNull(subscriber, "subscriber must not be null (Reactive Streams rule 1.9)");
        startRun.accept(subscriber);
    }
}
