package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.grpc.GrpcSource;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.util.Iterator;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark 6: one server-streaming call of {@code n} items ({@link ItemStreamServer}), read to the end by a counting
 * consumer. Every variant checks that the items arrived in order, 1..n, each exactly once, and returns {@code n}.
 */
final class GrpcStreams {

    /** Far beyond any healthy call here (a million items take about a second on loopback). */
    static final long TIMEOUT_SECONDS = 120;

    private GrpcStreams() {}

    /**
     * The Sluice way: a {@link GrpcSource} (manual flow control, {@code prefetch} messages requested ahead) as the
     * source of a pipeline whose sink counts, on its own stage thread. Two virtual threads, one pipeline link between
     * them.
     */
    static long sluiceSource(Channel channel, long n, int prefetch) throws InterruptedException {
        GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                        channel, ItemServiceGrpc.getStreamItemsMethod(), ItemStreamServer.request(n))
                .prefetch(prefetch)
                .build();
        SequenceCheck check = new SequenceCheck();
        long count = Pipeline.from(source)
                .to(Sink.forEach(check::accept))
                .run(java.time.Duration.ofSeconds(TIMEOUT_SECONDS))
                .value();
        // run() returned after the sink's thread ended: its writes to check are visible here.
        return check.expectAll("gRPC source", n, count);
    }

    /**
     * The ceiling: the raw async stub with automatic flow control (gRPC requests the next message as each one is
     * delivered), counting in {@code onNext} on the transport's thread. Nothing is handed to another thread, so
     * nothing could be faster; and nothing holds the server back but the transport's window.
     */
    static long asyncStub(Channel channel, long n) throws InterruptedException {
        CountingObserver observer = new CountingObserver();
        ItemServiceGrpc.newStub(channel).streamItems(ItemStreamServer.request(n), observer);
        if (!observer.done.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the async stub's call did not end within " + TIMEOUT_SECONDS + " s ("
                    + observer.check.count + " items so far)");
        }
        // The latch orders the callbacks' writes before this read.
        if (observer.failure != null) {
            throw new IllegalStateException("the async stub's call failed: " + observer.failure, observer.failure);
        }
        return observer.check.expectAll("async stub", n, observer.check.count);
    }

    /** The blocking stub's iterator, read on the calling thread (gRPC's own one-message-at-a-time hand-off). */
    static long blockingStub(Channel channel, long n) {
        Iterator<Item> items = ItemServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(TIMEOUT_SECONDS, TimeUnit.SECONDS)
                .streamItems(ItemStreamServer.request(n));
        SequenceCheck check = new SequenceCheck();
        while (items.hasNext()) {
            check.accept(items.next());
        }
        return check.expectAll("blocking stub", n, check.count);
    }

    /** Items must arrive as 1, 2, 3, ...: a lost, repeated or reordered item throws at once. One thread at a time. */
    private static final class SequenceCheck {
        long count;

        void accept(Item item) {
            long expected = count + 1;
            if (item.getSequence() != expected) {
                throw new IllegalStateException("expected item " + expected + ", got item " + item.getSequence()
                        + " (a lost, duplicated or reordered item)");
            }
            count = expected;
        }

        long expectAll(String who, long n, long delivered) {
            Items.expect(who + ": items delivered", n, delivered);
            return Items.expect(who + ": items checked", n, count);
        }
    }

    /** Counts in gRPC's serialised callbacks; the latch publishes the result. */
    private static final class CountingObserver implements StreamObserver<Item> {
        final SequenceCheck check = new SequenceCheck();
        final CountDownLatch done = new CountDownLatch(1);
        Throwable failure;

        @Override
        public void onNext(Item item) {
            check.accept(item); // a throw here cancels the call, which ends in onError
        }

        @Override
        public void onError(Throwable t) {
            failure = t;
            done.countDown();
        }

        @Override
        public void onCompleted() {
            done.countDown();
        }
    }
}
