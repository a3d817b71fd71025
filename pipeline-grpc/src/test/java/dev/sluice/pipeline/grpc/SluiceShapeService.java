package dev.sluice.pipeline.grpc;

import dev.sluice.pipeline.Outcome;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineListener;
import dev.sluice.pipeline.PipelineSummary;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.shapes.ShapeServiceGrpc;
import dev.sluice.pipeline.proto.shapes.UploadSummary;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The shape service served by Sluice pipelines ({@link ServerStreams#clientStreaming} and
 * {@link ServerStreams#bidiStreaming}): each call's messages go through a pipeline with a link of {@link #LINK}, whose
 * last stage counts what it consumed, can stall at an item until released, or fail at one. It records how each run
 * ended.
 */
class SluiceShapeService extends ShapeServiceGrpc.ShapeServiceImplBase {

    static final int LINK = 16;
    static final int PREFETCH = 32;

    final AtomicLong consumed = new AtomicLong();
    final AtomicReference<Outcome> lastOutcome = new AtomicReference<>();
    final CountDownLatch release = new CountDownLatch(1);
    /** Stalls the consuming stage at this consumed count until {@link #release} opens. */
    volatile long stallAt = Long.MAX_VALUE;
    /** Fails the consuming stage with an IllegalArgumentException at this sequence number (-1: never). */
    volatile long failAt = -1;

    private final PipelineListener recorder = new PipelineListener() {
        @Override
        public void onFinish(PipelineSummary summary) {
            lastOutcome.set(summary.outcome());
        }
    };

    private Item consume(Item item) throws InterruptedException {
        if (item.getSequence() == failAt) {
            throw new IllegalArgumentException("item " + failAt + " is refused");
        }
        if (consumed.incrementAndGet() == stallAt) {
            release.await();
        }
        return item;
    }

    @Override
    public StreamObserver<Item> upload(StreamObserver<UploadSummary> responses) {
        return ServerStreams.clientStreaming(
                responses,
                PREFETCH,
                items -> Pipeline.from(items)
                        .buffer(LINK)
                        .pipelineName("upload-server")
                        .listener(recorder, Duration.ofDays(1))
                        .map(this::consume)
                        .to(Sink.reduce(
                                UploadSummary.getDefaultInstance(),
                                (UploadSummary summary, Item item) -> summary.toBuilder()
                                        .setCount(summary.getCount() + 1)
                                        .setSequenceSum(summary.getSequenceSum() + item.getSequence())
                                        .setLastSequence(item.getSequence())
                                        .build())));
    }

    /** Answers each item with the same item (payload included), its sequence negated. */
    @Override
    public StreamObserver<Item> exchange(StreamObserver<Item> responses) {
        return ServerStreams.bidiStreaming(
                responses,
                PREFETCH,
                items -> Pipeline.from(items)
                        .buffer(LINK)
                        .pipelineName("exchange-server")
                        .listener(recorder, Duration.ofDays(1))
                        .map(this::consume)
                        .buffer(LINK)
                        .map(item -> item.toBuilder()
                                .setSequence(-item.getSequence())
                                .build())
                        .buffer(LINK));
    }
}
