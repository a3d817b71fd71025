package dev.sluice.pipeline.grpc;

import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An item service that records, for each call it receives, the deadline the call arrived with and when its
 * context was cancelled. {@code GetItem} answers at once, except for sequence {@link #HANG}, which it never answers;
 * {@code StreamItems} streams items without end, at the pace the client's flow control allows.
 */
final class ContextRecordingService extends ItemServiceGrpc.ItemServiceImplBase {

    /** The sequence whose GetItem is never answered. */
    static final long HANG = -1;

    /** One call as the server saw it. */
    static final class Seen {
        final String method;
        /** When the call arrived, on the System.nanoTime() clock. */
        final long arrivedNanos = System.nanoTime();
        /** What was left of its deadline then, in nanoseconds, or null if it had none. */
        final Long remainingNanos;
        /** When its context was cancelled, on the System.nanoTime() clock, or 0 while it is not. */
        final AtomicLong cancelledNanos = new AtomicLong();

        Seen(String method, Deadline deadline) {
            this.method = method;
            this.remainingNanos = deadline == null ? null : deadline.timeRemaining(TimeUnit.NANOSECONDS);
        }

        /** The deadline on the System.nanoTime() clock; fails if the call had none. */
        long deadlineNanos() {
            if (remainingNanos == null) {
                throw new AssertionError(method + " arrived without a deadline");
            }
            return arrivedNanos + remainingNanos;
        }

        boolean cancelled() {
            return cancelledNanos.get() != 0;
        }
    }

    final List<Seen> calls = new CopyOnWriteArrayList<>();

    private Seen arrive(String method) {
        Context context = Context.current();
        Seen seen = new Seen(method, context.getDeadline());
        context.addListener(c -> seen.cancelledNanos.compareAndSet(0, System.nanoTime()), Runnable::run);
        calls.add(seen);
        return seen;
    }

    List<Seen> callsOf(String method) {
        return calls.stream().filter(s -> s.method.equals(method)).toList();
    }

    @Override
    public void getItem(GetItemRequest request, StreamObserver<Item> responses) {
        arrive("GetItem");
        if (request.getSequence() == HANG) {
            return;
        }
        responses.onNext(Item.newBuilder().setSequence(request.getSequence()).build());
        responses.onCompleted();
    }

    @Override
    public void streamItems(StreamItemsRequest request, StreamObserver<Item> responses) {
        arrive("StreamItems");
        AtomicLong next = new AtomicLong();
        ServerStreams.serve(
                Source.generate(() ->
                        Item.newBuilder().setSequence(next.incrementAndGet()).build()),
                responses);
    }
}
