package dev.sluice.pipeline.grpc;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import dev.sluice.pipeline.proto.shapes.ShapeServiceGrpc;
import dev.sluice.pipeline.proto.shapes.UploadSummary;
import io.grpc.BindableService;
import io.grpc.stub.StreamObserver;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The idempotent services of a {@link ServerProcess}: an upload ({@link ServerStreams#clientStreaming}) and a unary
 * {@code GetItem} that upsert each item's sequence number, as a service keyed by ID would, so a repeated call is
 * one call in effect. The store is the process's standard output: an ID is stored once its line {@code stored N} is
 * written and flushed, before the call can answer, so what a killed server stored is still read by the test.
 *
 * <p>A test can arm a hold ({@link #arm}): the first call to reach that ID reports {@code holding N} and blocks before
 * storing it, until {@link #disarm} or the process is killed, so the test knows which server is serving that call.
 */
final class UpsertStore {

    private final PrintStream out;
    private final String prefix;
    private volatile long holdAt = -1;
    private volatile CountDownLatch release = new CountDownLatch(1);

    UpsertStore(PrintStream out, String prefix) {
        this.out = out;
        this.prefix = prefix;
    }

    /** The services to add to the server, {@code streamItems} served by a {@link CountingItemService}. */
    List<BindableService> services() {
        CountingItemService counting = new CountingItemService();
        return List.of(
                new ItemServiceGrpc.ItemServiceImplBase() {
                    @Override
                    public void streamItems(StreamItemsRequest request, StreamObserver<Item> responses) {
                        counting.streamItems(request, responses);
                    }

                    @Override
                    public void getItem(GetItemRequest request, StreamObserver<Item> responses) {
                        try {
                            upsert(request.getSequence());
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            responses.onError(ServerStreams.statusFor(e).asRuntimeException());
                            return;
                        }
                        responses.onNext(Items.item(request.getSequence(), Items.payload(request.getPayloadSize())));
                        responses.onCompleted();
                    }
                },
                new ShapeServiceGrpc.ShapeServiceImplBase() {
                    @Override
                    public StreamObserver<Item> upload(StreamObserver<UploadSummary> responses) {
                        return ServerStreams.clientStreaming(
                                responses,
                                items -> Pipeline.from(items)
                                        .pipelineName("upsert-upload")
                                        .map(item -> {
                                            upsert(item.getSequence());
                                            return item;
                                        })
                                        .to(Sink.reduce(
                                                UploadSummary.getDefaultInstance(),
                                                (UploadSummary s, Item item) -> s.toBuilder()
                                                        .setCount(s.getCount() + 1)
                                                        .setSequenceSum(s.getSequenceSum() + item.getSequence())
                                                        .setLastSequence(item.getSequence())
                                                        .build())));
                    }
                });
    }

    /** Holds the first call that reaches {@code id}. */
    void arm(long id) {
        release = new CountDownLatch(1);
        holdAt = id;
    }

    /** No more holds; a held call goes on. */
    void disarm() {
        holdAt = -1;
        release.countDown();
    }

    private void upsert(long id) throws InterruptedException {
        if (id == holdAt) {
            holdAt = -1;
            print("holding " + id);
            release.await();
        }
        print("stored " + id);
    }

    private void print(String line) {
        synchronized (out) {
            out.println(prefix + line);
            out.flush();
        }
    }
}
