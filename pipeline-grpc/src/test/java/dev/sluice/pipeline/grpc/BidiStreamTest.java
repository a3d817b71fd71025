package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.sluice.pipeline.Emitter;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.shapes.ShapeServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link GrpcBidiStream} against grpc-java's plain async server ({@link PlainShapeService}), in-process and on Netty:
 * every request answered in order, a server that reads slowly holds the pipeline back within a bound, and failure,
 * cancellation and deadline end both directions and the run together.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BidiStreamTest {

    private static final int LINK = 16;

    private static GrpcBidiStream<Item, Item> exchange(ShapeServers servers) {
        return GrpcBidiStream.builder(servers.channel, ShapeServiceGrpc.getExchangeMethod())
                .prefetch(32)
                .build();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void everyRequestIsAnsweredInOrderAndTheStageCompletesWhenTheServerDoes(Transport transport) throws Exception {
        PlainShapeService service = new PlainShapeService();
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            // when
            PipelineResult<List<Long>> result = Pipeline.from(ClientStreamTest.items(10_000, 16))
                    .via(exchange(servers))
                    .named("exchange")
                    .map(Item::getSequence)
                    .to(Sink.toList())
                    .run(Duration.ofSeconds(60));
            // then
            assertThat(result.value()).hasSize(10_000);
            for (int i = 0; i < 10_000; i++) {
                assertThat(result.value().get(i)).isEqualTo(-(i + 1L));
            }
            assertThat(result.summary().stage("exchange").orElseThrow().itemsIn())
                    .isEqualTo(10_000);
            assertThat(result.summary().stage("exchange").orElseThrow().itemsOut())
                    .isEqualTo(10_000);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aServerThatReadsSlowlyHoldsTheSourceBackWithinTheBound(Transport transport) throws Exception {
        // given: a server that stops reading at 500
        int payload = 1_024;
        long total = 5_000;
        PlainShapeService service = new PlainShapeService();
        service.stallAt = 500;
        AtomicLong produced = new AtomicLong();
        Source<Item> counted = (Emitter<Item> out) -> {
            ByteString filler = ByteString.copyFrom(new byte[payload]);
            for (long i = 1; i <= total; i++) {
                produced.incrementAndGet();
                out.emit(Item.newBuilder().setSequence(i).setPayload(filler).build());
            }
        };
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            PipelineHandle<Long> run = Pipeline.from(counted)
                    .buffer(LINK)
                    .via(exchange(servers))
                    .to(Sink.count())
                    .start();
            // when
            await().atMost(Duration.ofSeconds(30)).until(() -> service.received.get() == 500);
            AtRest.awaitAtRest(produced);
            // then: ahead by at most the link, the group the stage took from it, the writer's item, the transport,
            // and the producer's item
            long ahead = produced.get() - service.received.get();
            long bound = LINK + LINK + 1 + servers.transportBound(payload + 5) + 1;
            System.out.printf(
                    "BIDI %s: producer %d items ahead of a server that stopped reading (bound %d)%n",
                    transport, ahead, bound);
            assertThat(ahead).isLessThanOrEqualTo(bound);
            service.release.countDown();
            assertThat(run.await(Duration.ofSeconds(60)).value()).isEqualTo(total);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aServerFailureMidStreamFailsTheRunAfterTheResponsesBeforeIt(Transport transport) throws Exception {
        PlainShapeService service = new PlainShapeService();
        service.failAfter = 100;
        AtomicLong passedOn = new AtomicLong();
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            assertThatThrownBy(() -> Pipeline.from(ClientStreamTest.items(10_000, 16))
                            .via(exchange(servers))
                            .named("exchange")
                            .to(Sink.forEach((Item item) -> passedOn.incrementAndGet()))
                            .run(Duration.ofSeconds(30)))
                    .isInstanceOfSatisfying(PipelineFailedException.class, e -> {
                        assertThat(e.stage()).isEqualTo("exchange");
                        assertThat(e.getCause()).isInstanceOfSatisfying(GrpcCallException.class, g -> {
                            assertThat(g.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                            assertThat(g.itemsDelivered()).isEqualTo(99);
                        });
                    });
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void cancellingTheRunCancelsTheCallOnTheServer(Transport transport) throws Exception {
        PlainShapeService service = new PlainShapeService();
        service.stallAt = 50;
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            PipelineHandle<Long> run = Pipeline.from(ClientStreamTest.items(100_000, 16))
                    .via(exchange(servers))
                    .to(Sink.count())
                    .start();
            CallFailures.assertCancellingTheRunCancelsTheCall(service, run);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aDeadlineEndsAStalledCallAndTheRun(Transport transport) throws Exception {
        PlainShapeService service = new PlainShapeService();
        service.stallAt = 10;
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            GrpcBidiStream<Item, Item> withDeadline = GrpcBidiStream.builder(
                            servers.channel, ShapeServiceGrpc.getExchangeMethod())
                    .callOptions(CallOptions.DEFAULT.withDeadlineAfter(500, TimeUnit.MILLISECONDS))
                    .build();
            CallFailures.assertRunFailsWithStatus(
                    () -> Pipeline.from(ClientStreamTest.items(1_000_000, 1_024))
                            .via(withDeadline)
                            .to(Sink.count())
                            .run(Duration.ofSeconds(30)),
                    Status.Code.DEADLINE_EXCEEDED);
            service.release.countDown();
        }
    }

    @Test
    void aTakeAfterTheStageCancelsTheCallAndTheRunCompletes() throws Exception {
        PlainShapeService service = new PlainShapeService();
        try (ShapeServers servers = ShapeServers.start(Transport.IN_PROCESS, service.bindService())) {
            PipelineResult<Long> result = Pipeline.from(Source.generate(
                            () -> Item.newBuilder().setSequence(1).build()))
                    .via(exchange(servers))
                    .take(1_000)
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));
            assertThat(result.value()).isEqualTo(1_000);
            await().atMost(Duration.ofSeconds(10)).until(() -> service.cancelled.get() == 1);
        }
    }

    @Test
    void aMethodThatIsNotBidirectionalIsRefused() throws Exception {
        try (ShapeServers servers = ShapeServers.start(Transport.IN_PROCESS, new PlainShapeService().bindService())) {
            assertThatThrownBy(() -> GrpcBidiStream.builder(servers.channel, ShapeServiceGrpc.getUploadMethod()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("method must be bidirectional-streaming, got CLIENT_STREAMING");
            assertThatThrownBy(() -> GrpcBidiStream.builder(servers.channel, ShapeServiceGrpc.getExchangeMethod())
                            .prefetch(4)
                            .replenishBatch(5)
                            .build())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("replenishBatch");
        }
    }
}
