package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.shapes.ShapeServiceGrpc;
import dev.sluice.pipeline.proto.shapes.UploadSummary;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The snippets of docs/grpc.md, each as it stands there, run against the doc's own server class: a user's copy of
 * the page compiles and does what the page says.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GrpcDocExamplesTest {

    // --- docs/grpc.md: "The server side: a client stream as a Source" ---------------------------------------------
    static final class ShapeService extends ShapeServiceGrpc.ShapeServiceImplBase {
        @Override
        public StreamObserver<Item> upload(StreamObserver<UploadSummary> responses) {
            return ServerStreams.clientStreaming(
                    responses,
                    items -> Pipeline.from(items)
                            .to(Sink.reduce(
                                    UploadSummary.getDefaultInstance(),
                                    (summary, item) -> summary.toBuilder()
                                            .setCount(summary.getCount() + 1)
                                            .setLastSequence(item.getSequence())
                                            .build())));
        }

        @Override
        public StreamObserver<Item> exchange(StreamObserver<Item> responses) {
            return ServerStreams.bidiStreaming(
                    responses,
                    items -> Pipeline.from(items)
                            .map(item -> item.toBuilder()
                                    .setSequence(-item.getSequence())
                                    .build()));
        }
    }

    private Server server;
    private ManagedChannel channel;
    private final Source<Item> items = Source.from(() -> LongStream.rangeClosed(1, 2_500)
            .mapToObj(i -> Item.newBuilder().setSequence(i).build())
            .iterator());

    @BeforeEach
    void start() throws Exception {
        String name = "doc-" + System.nanoTime();
        server = InProcessServerBuilder.forName(name)
                .addService(new ShapeService())
                .build()
                .start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }

    @Test
    void clientStreamingOneCallPerRun() throws Exception {
        // --- docs/grpc.md: "Client streaming: a pipeline as an upload" ---
        GrpcClientStream<Item, UploadSummary> upload = GrpcClientStream.builder(
                        channel, ShapeServiceGrpc.getUploadMethod())
                .build();

        UploadSummary summary = Pipeline.from(items) // any Source<Item>
                .to(upload.sink()) // one call per run
                .run(Duration.ofMinutes(5))
                .value(); // the server's response
        // ---
        assertThat(summary.getCount()).isEqualTo(2_500);
        assertThat(summary.getLastSequence()).isEqualTo(2_500);
    }

    @Test
    void clientStreamingPerChunkWithWholeCallRetry() throws Exception {
        // --- docs/grpc.md: "Retry, only for idempotent servers" ---
        GrpcClientStream<Item, UploadSummary> idempotent = GrpcClientStream.builder(
                        channel, ShapeServiceGrpc.getUploadMethod())
                .retryWholeCalls(ResilienceOptions.defaults()) // the server upserts by item: a repeat is harmless
                .build();
        List<UploadSummary> perChunk =
                Pipeline.from(items).to(idempotent.sinkPerCall(1_000)).run().value();
        // ---
        assertThat(perChunk).extracting(UploadSummary::getCount).containsExactly(1_000L, 1_000L, 500L);
    }

    @Test
    void bidirectionalAsAStage() throws Exception {
        // --- docs/grpc.md: "Bidirectional streaming: a call as a stage" ---
        GrpcBidiStream<Item, Item> exchange = GrpcBidiStream.builder(channel, ShapeServiceGrpc.getExchangeMethod())
                .prefetch(64) // responses requested ahead, the most buffered
                .build();

        long answered = Pipeline.from(items)
                .via(exchange)
                .named("exchange")
                .map(Item::getSequence)
                .to(Sink.count())
                .run()
                .value();
        // ---
        assertThat(answered).isEqualTo(2_500);
    }

    @Test
    void theNewShapesCountWhatTheySentAndReceivedInTheDocumentedMeters() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        GrpcBidiStream<Item, Item> exchange = GrpcBidiStream.builder(channel, ShapeServiceGrpc.getExchangeMethod())
                .prefetch(64)
                .build();
        Pipeline.from(items)
                .pipelineName("doc-meters")
                .meterRegistry(registry)
                .via(exchange)
                .named("exchange")
                .to(GrpcClientStream.builder(channel, ShapeServiceGrpc.getUploadMethod())
                        .build()
                        .sink())
                .run(Duration.ofSeconds(30));
        String bidi = ShapeServiceGrpc.getExchangeMethod().getFullMethodName();
        String upload = ShapeServiceGrpc.getUploadMethod().getFullMethodName();
        assertThat(registry.get("sluice.grpc.sent")
                        .tags("pipeline", "doc-meters", "stage", "exchange", "method", bidi)
                        .functionCounter()
                        .count())
                .isEqualTo(2_500);
        assertThat(registry.get("sluice.grpc.received")
                        .tags("stage", "exchange", "method", bidi)
                        .functionCounter()
                        .count())
                .isEqualTo(2_500);
        assertThat(registry.get("sluice.grpc.sent")
                        .tags("stage", "grpc-upload", "method", upload)
                        .functionCounter()
                        .count())
                .isEqualTo(2_500);
        assertThat(registry.get("sluice.grpc.sent").functionCounter().getId().getBaseUnit())
                .isNull();
    }
}
