package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import dev.sluice.pipeline.proto.shapes.ShapeServiceGrpc;
import dev.sluice.pipeline.proto.shapes.UploadSummary;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The {@code sluice.grpc.*} meters: the metrics page (docs/metrics.md) names exactly those that gRPC clients and
 * servers register, and the server meters count calls, client messages, responses and cancellations.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GrpcMetersTest {

    private static final int ITEMS = 100;

    /**
     * Item and shape services whose served pipelines (named after their method) report into {@code registry}; a
     * stream of count 0 is endless.
     */
    private static ServerServiceDefinition[] services(MeterRegistry registry) {
        ItemServiceGrpc.ItemServiceImplBase items = new ItemServiceGrpc.ItemServiceImplBase() {
            @Override
            public void streamItems(StreamItemsRequest request, StreamObserver<Item> responses) {
                ServerStreams.serve(
                        Pipeline.from(ClientStreamTest.items(
                                        request.getCount() == 0 ? Long.MAX_VALUE : request.getCount(), 8))
                                .pipelineName("stream-items")
                                .meterRegistry(registry),
                        responses);
            }
        };
        ShapeServiceGrpc.ShapeServiceImplBase shapes = new ShapeServiceGrpc.ShapeServiceImplBase() {
            @Override
            public StreamObserver<Item> upload(StreamObserver<UploadSummary> responses) {
                return ServerStreams.clientStreaming(
                        responses,
                        (Source<Item> in) -> Pipeline.from(in)
                                .pipelineName("upload")
                                .meterRegistry(registry)
                                .to(Sink.reduce(
                                        UploadSummary.getDefaultInstance(),
                                        (UploadSummary s, Item item) -> s.toBuilder()
                                                .setCount(s.getCount() + 1)
                                                .build())));
            }

            @Override
            public StreamObserver<Item> exchange(StreamObserver<Item> responses) {
                return ServerStreams.bidiStreaming(
                        responses,
                        (Source<Item> in) ->
                                Pipeline.from(in).pipelineName("exchange").meterRegistry(registry));
            }
        };
        return new ServerServiceDefinition[] {items.bindService(), shapes.bindService()};
    }

    private static double count(MeterRegistry registry, String name, String pipeline) {
        return registry.get(name).tag("pipeline", pipeline).functionCounter().count();
    }

    @Test
    void theMetricsPageNamesEveryMeterOfGrpcClientsAndServers() throws Exception {
        // given: the gRPC rows of the metrics table; in each, `.x` continues the row's first name
        List<String> rows = Files.readAllLines(Path.of("..", "docs", "metrics.md")).stream()
                .filter(line -> line.startsWith("| `sluice.grpc."))
                .toList();
        TreeSet<String> documented = new TreeSet<>();
        for (String row : rows) {
            Matcher names = Pattern.compile("`([a-z.]+)`").matcher(row.substring(0, row.indexOf('|', 1)));
            String prefix = null;
            while (names.find()) {
                String name = names.group(1);
                if (prefix == null) {
                    prefix = name.substring(0, name.lastIndexOf('.'));
                    documented.add(name);
                } else {
                    documented.add(prefix + name);
                }
            }
        }
        SimpleMeterRegistry registry = new SimpleMeterRegistry();

        // when: a source, a client-streaming sink and a bidirectional stage run against served pipelines
        try (ShapeServers servers = ShapeServers.start(Transport.IN_PROCESS, services(registry))) {
            Pipeline.from(GrpcSource.of(servers.channel, Items.STREAM, Items.request(ITEMS)))
                    .meterRegistry(registry)
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));
            Pipeline.from(ClientStreamTest.items(ITEMS, 8))
                    .meterRegistry(registry)
                    .to(GrpcClientStream.builder(servers.channel, ShapeServiceGrpc.getUploadMethod())
                            .build()
                            .sink())
                    .run(Duration.ofSeconds(30));
            Pipeline.from(ClientStreamTest.items(ITEMS, 8))
                    .meterRegistry(registry)
                    .via(GrpcBidiStream.builder(servers.channel, ShapeServiceGrpc.getExchangeMethod())
                            .build())
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));
        }

        // then: the rows name each of them, and no other
        TreeSet<String> registered = new TreeSet<>();
        registry.getMeters().stream()
                .map(m -> m.getId().getName())
                .filter(name -> name.startsWith("sluice.grpc."))
                .forEach(registered::add);
        assertThat(registered).contains("sluice.grpc.sent", "sluice.grpc.server.calls");
        assertThat(documented).isEqualTo(registered);
    }

    @Test
    void aServedClientStreamCountsTheCallItsMessagesAndItsAnswer() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (ShapeServers servers = ShapeServers.start(Transport.IN_PROCESS, services(registry))) {
            // when
            UploadSummary summary = Pipeline.from(ClientStreamTest.items(ITEMS, 8))
                    .to(GrpcClientStream.builder(servers.channel, ShapeServiceGrpc.getUploadMethod())
                            .build()
                            .sink())
                    .run(Duration.ofSeconds(30))
                    .value();

            // then
            assertThat(summary.getCount()).isEqualTo(ITEMS);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> count(registry, "sluice.grpc.server.sent", "upload") == 1);
            assertThat(count(registry, "sluice.grpc.server.calls", "upload")).isEqualTo(1);
            assertThat(count(registry, "sluice.grpc.server.received", "upload")).isEqualTo(ITEMS);
            assertThat(count(registry, "sluice.grpc.server.cancellations", "upload"))
                    .isZero();
        }
    }

    @Test
    void aServedBidirectionalStreamCountsWhatCameAndWhatWent() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (ShapeServers servers = ShapeServers.start(Transport.NETTY, services(registry))) {
            long answers = Pipeline.from(ClientStreamTest.items(ITEMS, 8))
                    .via(GrpcBidiStream.builder(servers.channel, ShapeServiceGrpc.getExchangeMethod())
                            .build())
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30))
                    .value();

            assertThat(answers).isEqualTo(ITEMS);
            assertThat(count(registry, "sluice.grpc.server.calls", "exchange")).isEqualTo(1);
            assertThat(count(registry, "sluice.grpc.server.received", "exchange"))
                    .isEqualTo(ITEMS);
            assertThat(count(registry, "sluice.grpc.server.sent", "exchange")).isEqualTo(ITEMS);
            assertThat(count(registry, "sluice.grpc.server.cancellations", "exchange"))
                    .isZero();
        }
    }

    @Test
    void aServedServerStreamCountsTheCallAndWhatWentButNoCancellation() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (ShapeServers servers = ShapeServers.start(Transport.NETTY, services(registry))) {
            long items = Pipeline.from(GrpcSource.of(servers.channel, Items.STREAM, Items.request(ITEMS)))
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30))
                    .value();

            assertThat(items).isEqualTo(ITEMS);
            assertThat(count(registry, "sluice.grpc.server.calls", "stream-items"))
                    .isEqualTo(1);
            assertThat(count(registry, "sluice.grpc.server.sent", "stream-items"))
                    .isEqualTo(ITEMS);
            assertThat(count(registry, "sluice.grpc.server.received", "stream-items"))
                    .isZero();
            assertThat(count(registry, "sluice.grpc.server.cancellations", "stream-items"))
                    .isZero();
        }
    }

    @Test
    void aServerStreamTheClientCancelsIsCountedOnce() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (ShapeServers servers = ShapeServers.start(Transport.NETTY, services(registry))) {
            // when: the client takes 10 items of an endless stream, and so cancels the call
            long taken = Pipeline.from(GrpcSource.of(servers.channel, Items.STREAM, Items.request(0)))
                    .take(10)
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30))
                    .value();

            // then
            assertThat(taken).isEqualTo(10);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> count(registry, "sluice.grpc.server.cancellations", "stream-items") == 1);
            assertThat(count(registry, "sluice.grpc.server.calls", "stream-items"))
                    .isEqualTo(1);
        }
    }

    @Test
    void aClientThatCancelsIsCountedOnce() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (ShapeServers servers = ShapeServers.start(Transport.NETTY, services(registry))) {
            // given: a plain client's upload under way
            StreamObserver<Item> requests = ShapeServiceGrpc.newStub(servers.channel)
                    .upload(new StreamObserver<>() {
                        @Override
                        public void onNext(UploadSummary value) {}

                        @Override
                        public void onError(Throwable t) {}

                        @Override
                        public void onCompleted() {}
                    });
            LongStream.rangeClosed(1, 10)
                    .forEach(i ->
                            requests.onNext(Item.newBuilder().setSequence(i).build()));
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> registry.find("sluice.grpc.server.received").functionCounter() != null
                            && count(registry, "sluice.grpc.server.received", "upload") == 10);

            // when: it cancels
            ((ClientCallStreamObserver<Item>) requests).cancel("the client gives up", null);

            // then
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> count(registry, "sluice.grpc.server.cancellations", "upload") == 1);
            assertThat(count(registry, "sluice.grpc.server.calls", "upload")).isEqualTo(1);
            assertThat(count(registry, "sluice.grpc.server.sent", "upload")).isZero();
        }
    }
}
