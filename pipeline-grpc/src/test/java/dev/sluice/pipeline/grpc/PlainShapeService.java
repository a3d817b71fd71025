package dev.sluice.pipeline.grpc;

import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.shapes.ShapeServiceGrpc;
import dev.sluice.pipeline.proto.shapes.UploadSummary;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The shape service written with grpc-java's plain async stub and nothing of Sluice: the independent peer of the
 * client tests. It can stall (block its callback, as a slow server does, so the transport's flow control holds the
 * client back), fail a call after some items, and it records what it received and how calls ended.
 */
class PlainShapeService extends ShapeServiceGrpc.ShapeServiceImplBase {

    final AtomicLong received = new AtomicLong();
    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger cancelled = new AtomicInteger();
    /** Received items, counted per sequence number modulo nothing: the sum lets a test check exactly-once. */
    final AtomicLong sequenceSum = new AtomicLong();

    /** Blocks the callback once this many items were received in total, until {@link #release} opens. */
    volatile long stallAt = Long.MAX_VALUE;

    final CountDownLatch release = new CountDownLatch(1);
    /** Fails a call with {@link #failWith} when it has received this many items (per call; -1: never). */
    volatile long failAfter = -1;

    volatile Status failWith = Status.INVALID_ARGUMENT.withDescription("item refused");
    /** Fails only the first this-many calls (with failAfter). */
    volatile int failCalls = Integer.MAX_VALUE;
    /**
     * Answers and completes an upload when it has received this many items (per call; -1: never), before the client's
     * stream has ended; the rest of the call's items are ignored.
     */
    volatile long completeAfter = -1;
    /** The number of items each upload received, in the order the calls ended. */
    final java.util.List<Long> itemsPerCall = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public StreamObserver<Item> upload(StreamObserver<UploadSummary> responses) {
        int callNumber = calls.incrementAndGet();
        watchCancellation();
        return new StreamObserver<>() {
            long count;
            long sum;
            long last;
            boolean failed;

            @Override
            public void onNext(Item item) {
                if (failed) {
                    return;
                }
                count++;
                sum += item.getSequence();
                last = item.getSequence();
                sequenceSum.addAndGet(item.getSequence());
                if (received.incrementAndGet() == stallAt) {
                    awaitRelease();
                }
                if (count == failAfter && callNumber <= failCalls) {
                    failed = true;
                    itemsPerCall.add(count);
                    responses.onError(failWith.asRuntimeException());
                } else if (count == completeAfter) {
                    failed = true; // answered: what comes after is ignored
                    itemsPerCall.add(count);
                    responses.onNext(summary());
                    responses.onCompleted();
                }
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {
                if (!failed) {
                    itemsPerCall.add(count);
                    responses.onNext(summary());
                    responses.onCompleted();
                }
            }

            private UploadSummary summary() {
                return UploadSummary.newBuilder()
                        .setCount(count)
                        .setSequenceSum(sum)
                        .setLastSequence(last)
                        .build();
            }
        };
    }

    @Override
    public StreamObserver<Item> exchange(StreamObserver<Item> responses) {
        calls.incrementAndGet();
        watchCancellation();
        return new StreamObserver<>() {
            long count;
            boolean failed;

            @Override
            public void onNext(Item item) {
                if (failed) {
                    return;
                }
                count++;
                sequenceSum.addAndGet(item.getSequence());
                if (received.incrementAndGet() == stallAt) {
                    awaitRelease();
                }
                if (count == failAfter) {
                    failed = true;
                    responses.onError(failWith.asRuntimeException());
                    return;
                }
                responses.onNext(
                        Item.newBuilder().setSequence(-item.getSequence()).build());
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {
                if (!failed) {
                    responses.onCompleted();
                }
            }
        };
    }

    /**
     * Counts the call's cancellation as soon as the transport learns of it: the call's context is cancelled at once,
     * while the cancel handler would wait behind a callback that is stalled.
     */
    private void watchCancellation() {
        Context.current().addListener(context -> cancelled.incrementAndGet(), Runnable::run);
    }

    private void awaitRelease() {
        try {
            release.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
