package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.sluice.pipeline.Emitter;
import dev.sluice.pipeline.Outcome;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.shapes.ShapeServiceGrpc;
import dev.sluice.pipeline.proto.shapes.UploadSummary;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The server side of client-streaming and bidirectional calls ({@link ServerStreams#clientStreaming},
 * {@link ServerStreams#bidiStreaming}), in-process and on Netty: against grpc-java's plain async client as an
 * independent peer, and against Sluice's own client for the end-to-end bound on what a slow server lets the client
 * produce.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ServerShapesTest {

    private static final int CLIENT_LINK = 16;

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aPlainClientsUploadIsAnsweredWithThePipelinesValue(Transport transport) throws Exception {
        SluiceShapeService service = new SluiceShapeService();
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            UploadSummary summary =
                    ShapeServers.plainUpload(servers.channel, 10_000).get(60, TimeUnit.SECONDS);
            assertThat(summary.getCount()).isEqualTo(10_000);
            assertThat(summary.getSequenceSum()).isEqualTo(10_000L * 10_001 / 2);
            await().atMost(Duration.ofSeconds(10)).until(() -> service.lastOutcome.get() == Outcome.COMPLETED);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aPlainClientsExchangeIsAnsweredInOrder(Transport transport) throws Exception {
        SluiceShapeService service = new SluiceShapeService();
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            List<Long> answers = new CopyOnWriteArrayList<>();
            CompletableFuture<Void> done = new CompletableFuture<>();
            StreamObserver<Item> requests = ShapeServiceGrpc.newStub(servers.channel)
                    .exchange(new StreamObserver<>() {
                        @Override
                        public void onNext(Item value) {
                            answers.add(value.getSequence());
                        }

                        @Override
                        public void onError(Throwable t) {
                            done.completeExceptionally(t);
                        }

                        @Override
                        public void onCompleted() {
                            done.complete(null);
                        }
                    });
            for (long i = 1; i <= 2_000; i++) {
                requests.onNext(Item.newBuilder().setSequence(i).build());
            }
            requests.onCompleted();
            done.get(60, TimeUnit.SECONDS);
            assertThat(answers).hasSize(2_000);
            for (int i = 0; i < 2_000; i++) {
                assertThat(answers.get(i)).isEqualTo(-(i + 1L));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aSlowServerPipelineHoldsTheClientsProducerBackEndToEnd(Transport transport) throws Exception {
        // given: a Sluice server whose pipeline stalls at 500, and a Sluice client whose source counts what it made
        int payload = 1_024;
        long total = 5_000;
        SluiceShapeService service = new SluiceShapeService();
        service.stallAt = 500;
        AtomicLong produced = new AtomicLong();
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            GrpcClientStream<Item, UploadSummary> upload = GrpcClientStream.builder(
                            servers.channel, ShapeServiceGrpc.getUploadMethod())
                    .build();
            PipelineHandle<UploadSummary> run = Pipeline.from(counting(produced, total, payload))
                    .buffer(CLIENT_LINK)
                    .to(upload.sink())
                    .start();
            // when
            await().atMost(Duration.ofSeconds(30)).until(() -> service.consumed.get() == 500);
            AtRest.awaitAtRest(produced);
            // then: client (link, sink's group, producer's item) + transport + server (prefetch, link, map's group)
            long ahead = produced.get() - service.consumed.get();
            long bound = CLIENT_LINK
                    + CLIENT_LINK
                    + 1
                    + servers.transportBound(payload + 5)
                    + SluiceShapeService.PREFETCH
                    + SluiceShapeService.LINK
                    + SluiceShapeService.LINK;
            System.out.printf(
                    "SERVED CLIENT STREAM %s: producer %d items ahead of the server's stalled stage" + " (bound %d)%n",
                    transport, ahead, bound);
            assertThat(ahead).isLessThanOrEqualTo(bound);
            service.release.countDown();
            assertThat(run.await(Duration.ofSeconds(60)).value().getCount()).isEqualTo(total);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aSlowClientSinkHoldsTheServerAndTheClientsProducerBackInABidiExchange(Transport transport) throws Exception {
        // given: a Sluice bidi client whose sink stalls at 500, against a Sluice server
        int payload = 1_024;
        long total = 5_000;
        SluiceShapeService service = new SluiceShapeService();
        AtomicLong produced = new AtomicLong();
        AtomicLong taken = new AtomicLong();
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            GrpcBidiStream<Item, Item> exchange = GrpcBidiStream.builder(
                            servers.channel, ShapeServiceGrpc.getExchangeMethod())
                    .prefetch(32)
                    .build();
            PipelineHandle<Long> run = Pipeline.from(counting(produced, total, payload))
                    .buffer(CLIENT_LINK)
                    .via(exchange)
                    .buffer(CLIENT_LINK)
                    .to(Sink.forEach((Item item) -> {
                        if (taken.incrementAndGet() == 500) {
                            release.await();
                        }
                    }))
                    .start();
            // when
            await().atMost(Duration.ofSeconds(30)).until(() -> taken.get() == 500);
            AtRest.awaitAtRest(produced);
            // then: the requests' way (client link, the stage's group, the writer's item, transport), the server
            // (prefetch; three links and three groups of LINK; the writer's item), the responses' way back (transport,
            // which carries the payload back too; the stage's prefetch), and the client's link and sink group
            long ahead = produced.get() - taken.get();
            long transportEachWay = servers.transportBound(payload + 5);
            long bound = CLIENT_LINK
                    + CLIENT_LINK
                    + 1
                    + transportEachWay
                    + SluiceShapeService.PREFETCH
                    + 6L * SluiceShapeService.LINK
                    + 1
                    + transportEachWay
                    + 32
                    + CLIENT_LINK
                    + CLIENT_LINK
                    + 1;
            System.out.printf(
                    "BIDI END TO END %s: producer %d items ahead of the stalled client sink (bound %d)%n",
                    transport, ahead, bound);
            assertThat(ahead).isLessThanOrEqualTo(bound);
            release.countDown();
            assertThat(run.await(Duration.ofSeconds(60)).value()).isEqualTo(total);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aClientCancellationCancelsTheServersPipeline(Transport transport) throws Exception {
        SluiceShapeService service = new SluiceShapeService();
        service.stallAt = 20;
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            AtomicReference<ClientCallStreamObserver<Item>> call = new AtomicReference<>();
            CompletableFuture<UploadSummary> answer = new CompletableFuture<>();
            StreamObserver<Item> requests = ShapeServiceGrpc.newStub(servers.channel)
                    .upload(new ClientResponseObserver<Item, UploadSummary>() {
                        @Override
                        public void beforeStart(ClientCallStreamObserver<Item> requestStream) {
                            call.set(requestStream);
                        }

                        @Override
                        public void onNext(UploadSummary value) {
                            answer.complete(value);
                        }

                        @Override
                        public void onError(Throwable t) {
                            answer.completeExceptionally(t);
                        }

                        @Override
                        public void onCompleted() {}
                    });
            for (long i = 1; i <= 100; i++) {
                requests.onNext(Item.newBuilder().setSequence(i).build());
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> service.consumed.get() == 20);
            // when
            call.get().cancel("the client gives up", null);
            // then: the server's run is cancelled (its stalled stage interrupted), not left waiting
            await().atMost(Duration.ofSeconds(10)).until(() -> service.lastOutcome.get() == Outcome.CANCELLED);
            assertThatThrownBy(() -> answer.get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .satisfies(
                            e -> assertThat(Status.fromThrowable(e.getCause()).getCode())
                                    .isEqualTo(Status.Code.CANCELLED));
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aServerPipelineFailureReachesTheClientAsAStatus(Transport transport) throws Exception {
        SluiceShapeService service = new SluiceShapeService();
        service.failAt = 100;
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            GrpcClientStream<Item, UploadSummary> upload = GrpcClientStream.builder(
                            servers.channel, ShapeServiceGrpc.getUploadMethod())
                    .build();
            CallFailures.assertRunFailsWithStatus(
                    () -> Pipeline.from(ClientStreamTest.items(10_000, 16))
                            .to(upload.sink())
                            .run(Duration.ofSeconds(30)),
                    Status.Code.INVALID_ARGUMENT);
            await().atMost(Duration.ofSeconds(10)).until(() -> service.lastOutcome.get() == Outcome.FAILED);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aBidiServerPipelineFailureEndsTheClientsStage(Transport transport) throws Exception {
        SluiceShapeService service = new SluiceShapeService();
        service.failAt = 100;
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            GrpcBidiStream<Item, Item> exchange = GrpcBidiStream.builder(
                            servers.channel, ShapeServiceGrpc.getExchangeMethod())
                    .build();
            CallFailures.assertRunFailsWithStatus(
                    () -> Pipeline.from(ClientStreamTest.items(10_000, 16))
                            .via(exchange)
                            .to(Sink.count())
                            .run(Duration.ofSeconds(30)),
                    Status.Code.INVALID_ARGUMENT);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void theClientsDeadlineEndsTheServersRun(Transport transport) throws Exception {
        SluiceShapeService service = new SluiceShapeService();
        service.stallAt = 10;
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            GrpcBidiStream<Item, Item> exchange = GrpcBidiStream.builder(
                            servers.channel, ShapeServiceGrpc.getExchangeMethod())
                    .callOptions(io.grpc.CallOptions.DEFAULT.withDeadlineAfter(500, TimeUnit.MILLISECONDS))
                    .build();
            CallFailures.assertRunFailsWithStatus(
                    () -> Pipeline.from(ClientStreamTest.items(1_000, 16))
                            .via(exchange)
                            .to(Sink.count())
                            .run(Duration.ofSeconds(30)),
                    Status.Code.DEADLINE_EXCEEDED);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> service.lastOutcome.get() == Outcome.TIMED_OUT
                            || service.lastOutcome.get() == Outcome.CANCELLED);
        }
    }

    private static Source<Item> counting(AtomicLong produced, long total, int payload) {
        return (Emitter<Item> out) -> {
            ByteString filler = ByteString.copyFrom(new byte[payload]);
            for (long i = 1; i <= total; i++) {
                produced.incrementAndGet();
                out.emit(Item.newBuilder().setSequence(i).setPayload(filler).build());
            }
        };
    }
}
