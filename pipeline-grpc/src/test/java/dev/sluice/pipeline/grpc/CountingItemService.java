package dev.sluice.pipeline.grpc;

import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A well-behaved item service built on {@link ServerStreams}: a producer pipeline per call, with small buffers so
 * that its distance ahead of the client is easy to bound, counting what its producer made.
 */
final class CountingItemService extends ItemServiceGrpc.ItemServiceImplBase {

    /** The capacity of the link between the producer and the writer in each served pipeline. */
    static final int SERVER_LINK = 16;

    /** Items the producers created (counted before each is emitted). */
    final AtomicLong produced = new AtomicLong();
    /** Producers whose body has returned or thrown. */
    final AtomicInteger producersEnded = new AtomicInteger();
    /** The client's count of consumed items, if a test watches how far the producer runs ahead of it. */
    volatile LongSupplier consumed = () -> 0;
    /** The largest {@code produced - consumed} seen by any producer, checked at each item it creates. */
    final AtomicLong maxAhead = new AtomicLong();
    /** The runs serving calls, in call order. */
    final List<PipelineHandle<Long>> runs = new CopyOnWriteArrayList<>();

    @Override
    public void streamItems(StreamItemsRequest request, StreamObserver<Item> responses) {
        long count = request.getCount();
        long first = Items.startAfter(request) + 1;
        ByteString payload = Items.payload(request.getPayloadSize());
        Source<Item> producer = emitter -> {
            try {
                for (long s = first; count == 0 || s <= count; s++) {
                    long p = produced.incrementAndGet();
                    long ahead = p - consumed.getAsLong();
                    if (ahead > maxAhead.get()) {
                        maxAhead.accumulateAndGet(ahead, Math::max);
                    }
                    emitter.emit(Items.item(s, payload));
                }
            } finally {
                producersEnded.incrementAndGet();
            }
        };
        runs.add(ServerStreams.serve(Pipeline.from(producer).buffer(SERVER_LINK), responses));
    }

    /** The item with the requested sequence number. */
    @Override
    public void getItem(GetItemRequest request, StreamObserver<Item> responses) {
        responses.onNext(Items.item(request.getSequence(), Items.payload(request.getPayloadSize())));
        responses.onCompleted();
    }

    /**
     * The run serving the last call. The handler records it after {@code serve} returns, by which time the run may
     * have sent the client all it wanted: so this waits (boundedly) for the handler to have recorded it.
     */
    PipelineHandle<Long> lastRun() {
        await().atMost(Duration.ofSeconds(10)).until(() -> !runs.isEmpty());
        return runs.get(runs.size() - 1);
    }
}
