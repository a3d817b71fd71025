package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.sluice.pipeline.DeadLetter;
import dev.sluice.pipeline.Emitter;
import dev.sluice.pipeline.ErrorPolicy;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineCancelledException;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.PositionTracker;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.StageStats;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.shapes.ShapeServiceGrpc;
import dev.sluice.pipeline.proto.shapes.UploadSummary;
import io.grpc.CallOptions;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link GrpcClientStream} against grpc-java's plain async server ({@link PlainShapeService}), in-process and on
 * Netty: every item arrives, a slow server holds the pipeline back within a bound, and failure, cancellation and
 * deadline end the call and the run together.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClientStreamTest {

    private static final int LINK = 16;

    static Source<Item> items(long count, int payload) {
        ByteString filler = ByteString.copyFrom(new byte[payload]);
        return Source.from(() -> LongStream.rangeClosed(1, count)
                .mapToObj(
                        i -> Item.newBuilder().setSequence(i).setPayload(filler).build())
                .iterator());
    }

    /** An upload's builder, with whole-call retry (backing off on a recording sleeper) or without. */
    private static GrpcClientStream.Builder<Item, UploadSummary> upload(ShapeServers servers, boolean wholeCallRetry) {
        GrpcClientStream.Builder<Item, UploadSummary> builder =
                GrpcClientStream.builder(servers.channel, ShapeServiceGrpc.getUploadMethod());
        if (wholeCallRetry) {
            builder.retryWholeCalls(
                    ResilienceOptions.builder().sleeper(new RecordingSleeper()).build());
        }
        return builder;
    }

    private static GrpcClientStream<Item, UploadSummary> upload(ShapeServers servers) {
        return GrpcClientStream.builder(servers.channel, ShapeServiceGrpc.getUploadMethod())
                .build();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void everyItemReachesTheServerAndItsResponseIsTheRunsValue(Transport transport) throws Exception {
        PlainShapeService service = new PlainShapeService();
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            // when
            PipelineResult<UploadSummary> result =
                    Pipeline.from(items(10_000, 16)).to(upload(servers).sink()).run(Duration.ofSeconds(60));
            // then
            assertThat(result.value().getCount()).isEqualTo(10_000);
            assertThat(result.value().getSequenceSum()).isEqualTo(10_000L * 10_001 / 2);
            assertThat(result.value().getLastSequence()).isEqualTo(10_000);
            assertThat(service.calls.get()).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void anEmptyInputStillMakesTheCall(Transport transport) throws Exception {
        PlainShapeService service = new PlainShapeService();
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            UploadSummary summary = Pipeline.from(Source.<Item>of())
                    .to(upload(servers).sink())
                    .run(Duration.ofSeconds(30))
                    .value();
            assertThat(summary.getCount()).isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aSlowServerHoldsTheSourceBackWithinTheLinksAndTheTransport(Transport transport) throws Exception {
        // given: a server that stops taking items at 500, and a source that counts what it made
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
            PipelineHandle<UploadSummary> run = Pipeline.from(counted)
                    .buffer(LINK)
                    .to(upload(servers).sink())
                    .start();
            // when: the server has stalled and the producer has come to rest
            await().atMost(Duration.ofSeconds(30)).until(() -> service.received.get() == 500);
            AtRest.awaitAtRest(produced);
            // then: the producer is ahead of the server by at most the link, the group the sink took from it, what
            // the transport holds, and the item the producer is emitting
            long ahead = produced.get() - service.received.get();
            long bound = LINK + LINK + servers.transportBound(payload + 5) + 1;
            System.out.printf(
                    "CLIENT STREAM %s: producer %d items ahead of a stalled server (bound %d)%n",
                    transport, ahead, bound);
            assertThat(ahead).isLessThanOrEqualTo(bound);
            // and when the server goes on, every item arrives
            service.release.countDown();
            assertThat(run.await(Duration.ofSeconds(60)).value().getCount()).isEqualTo(total);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aServerFailureMidStreamFailsTheRunWithItsStatus(Transport transport) throws Exception {
        PlainShapeService service = new PlainShapeService();
        service.failAfter = 100;
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            assertThatThrownBy(() -> Pipeline.from(items(10_000, 16))
                            .to(upload(servers).sink())
                            .run(Duration.ofSeconds(30)))
                    .isInstanceOfSatisfying(PipelineFailedException.class, e -> {
                        assertThat(e.stage()).isEqualTo("grpc-upload");
                        assertThat(e.getCause()).isInstanceOfSatisfying(GrpcCallException.class, g -> {
                            assertThat(g.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                            assertThat(g.attempts()).isEqualTo(1);
                            assertThat(g.itemsDelivered()).isGreaterThanOrEqualTo(100);
                        });
                    });
            assertThat(service.calls.get()).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void cancellingTheRunCancelsTheCallOnTheServer(Transport transport) throws Exception {
        PlainShapeService service = new PlainShapeService();
        service.stallAt = 50;
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            PipelineHandle<UploadSummary> run =
                    Pipeline.from(items(100_000, 16)).to(upload(servers).sink()).start();
            CallFailures.assertCancellingTheRunCancelsTheCall(service, run);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aDeadlineEndsAStalledCallAndTheRun(Transport transport) throws Exception {
        PlainShapeService service = new PlainShapeService();
        service.stallAt = 10;
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            GrpcClientStream<Item, UploadSummary> withDeadline = GrpcClientStream.builder(
                            servers.channel, ShapeServiceGrpc.getUploadMethod())
                    .callOptions(CallOptions.DEFAULT.withDeadlineAfter(500, TimeUnit.MILLISECONDS))
                    .build();
            CallFailures.assertRunFailsWithStatus(
                    () -> Pipeline.from(items(1_000_000, 1_024))
                            .to(withDeadline.sink())
                            .run(Duration.ofSeconds(30)),
                    Status.Code.DEADLINE_EXCEEDED);
            service.release.countDown();
        }
    }

    @Test
    void sinkPerCallMakesACallEveryNItemsAndReturnsTheResponsesInOrder() throws Exception {
        PlainShapeService service = new PlainShapeService();
        try (ShapeServers servers = ShapeServers.start(Transport.IN_PROCESS, service.bindService())) {
            List<UploadSummary> responses = Pipeline.from(items(1_050, 16))
                    .to(upload(servers).sinkPerCall(100))
                    .run(Duration.ofSeconds(30))
                    .value();
            assertThat(responses).hasSize(11);
            assertThat(responses)
                    .extracting(UploadSummary::getLastSequence)
                    .startsWith(100L, 200L)
                    .endsWith(1_050L);
            assertThat(responses.get(10).getCount()).isEqualTo(50);
            assertThat(service.calls.get()).isEqualTo(11);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void anItemIsDoneOnlyOnceItsCallHasAnsweredSoACheckpointNeverPassesAnUnansweredItem(Transport transport)
            throws Exception {
        for (boolean wholeCallRetry : List.of(false, true)) {
            // given: the second call of 100 items stalls on the server after 50 of them
            PlainShapeService service = new PlainShapeService();
            service.stallAt = 150;
            try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
                GrpcClientStream.Builder<Item, UploadSummary> builder =
                        GrpcClientStream.builder(servers.channel, ShapeServiceGrpc.getUploadMethod());
                if (wholeCallRetry) {
                    builder.retryWholeCalls(ResilienceOptions.defaults());
                }
                PositionTracker tracker = new PositionTracker(1);
                Source<Item> tracked = emitter -> {
                    for (long i = 1; i <= 10_000; i++) {
                        emitter.emit(Item.newBuilder().setSequence(i).build(), tracker.track(i));
                    }
                };
                PipelineHandle<List<UploadSummary>> run = Pipeline.from(tracked)
                        .to(builder.build().sinkPerCall(100))
                        .start();
                await().atMost(Duration.ofSeconds(30)).until(() -> service.received.get() >= 150);

                // when
                run.cancel();

                // then: the first call answered; the second did not, so its items are released
                assertThatThrownBy(run::await).isInstanceOf(PipelineCancelledException.class);
                assertThat(tracker.committable())
                        .as("with whole-call retry %s", wholeCallRetry)
                        .isEqualTo(101);
                service.release.countDown();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aServerThatCompletesBeforeTheClientsStreamEndedFailsTheRunWithOrWithoutRetry(Transport transport)
            throws Exception {
        // items of 1 KiB, more than the transport holds, so that the client sees the end before it has sent them all
        ByteString filler = ByteString.copyFrom(new byte[1024]);
        int count = 20_000;
        for (boolean wholeCallRetry : List.of(false, true)) {
            // given: a server that answers and completes each call at its first item
            PlainShapeService service = new PlainShapeService();
            service.completeAfter = 1;
            try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
                GrpcClientStream.Builder<Item, UploadSummary> builder = upload(servers, wholeCallRetry);
                PositionTracker tracker = new PositionTracker(1);
                Source<Item> tracked = emitter -> {
                    for (long i = 1; i <= count; i++) {
                        emitter.emit(
                                Item.newBuilder()
                                        .setSequence(i)
                                        .setPayload(filler)
                                        .build(),
                                tracker.track(i));
                    }
                };
                // when / then: the items the call never sent are not claimed as delivered
                assertThatThrownBy(() -> Pipeline.from(tracked)
                                .to(builder.build().sinkPerCall(count))
                                .run(Duration.ofSeconds(60)))
                        .as("with whole-call retry %s", wholeCallRetry)
                        .isInstanceOfSatisfying(
                                PipelineFailedException.class,
                                e -> assertThat(e.getCause()).isInstanceOfSatisfying(GrpcCallException.class, g -> {
                                    assertThat(g.code()).isEqualTo(Status.Code.CANCELLED);
                                    assertThat(g.status().getDescription())
                                            .startsWith("the server completed the call after ")
                                            .endsWith("before the client's stream ended; the remaining items were"
                                                    + " not sent");
                                    assertThat(g.itemsDelivered()).isBetween(1L, count - 1L);
                                }));
                assertThat(tracker.committable())
                        .as("with whole-call retry %s", wholeCallRetry)
                        .isEqualTo(1);
                assertThat(service.calls.get()).isEqualTo(1);
            }
        }
    }

    @Test
    void underASkipOrDeadLetterPolicyAFailedCallsItemsShareItsFailureAndTheNextItemStartsANewCall() throws Exception {
        for (boolean wholeCallRetry : List.of(false, true)) {
            // given: a server that refuses the first call at its tenth item, with a status no retry repeats
            PlainShapeService service = new PlainShapeService();
            service.failAfter = 10;
            service.failCalls = 1;
            try (ShapeServers servers = ShapeServers.start(Transport.IN_PROCESS, service.bindService())) {
                GrpcClientStream.Builder<Item, UploadSummary> builder = upload(servers, wholeCallRetry);
                PositionTracker tracker = new PositionTracker(1);
                Source<Item> tracked = emitter -> {
                    for (long i = 1; i <= 100; i++) {
                        emitter.emit(Item.newBuilder().setSequence(i).build(), tracker.track(i));
                    }
                };
                List<DeadLetter> deadLetters = new CopyOnWriteArrayList<>();
                Sink<Item, List<UploadSummary>> sink = builder.build()
                        .sinkPerCall(10)
                        .onError(wholeCallRetry ? ErrorPolicy.skip() : ErrorPolicy.deadLetter(deadLetters::add));

                // when
                PipelineResult<List<UploadSummary>> result =
                        Pipeline.from(tracked).to(sink).run(Duration.ofSeconds(30));

                // then: the failed call's ten items were skipped or dead-lettered, every later call carried ten
                String as = "with whole-call retry " + wholeCallRetry;
                assertThat(result.value())
                        .as(as)
                        .hasSize(9)
                        .allSatisfy(r -> assertThat(r.getCount()).isEqualTo(10));
                assertThat(service.itemsPerCall).as(as).hasSize(10).containsOnly(10L);
                StageStats upload = result.stages().get(1);
                if (wholeCallRetry) {
                    assertThat(upload.skipped()).as(as).isEqualTo(10);
                } else {
                    assertThat(upload.failed()).as(as).isEqualTo(10);
                    assertThat(deadLetters)
                            .extracting(d -> ((Item) d.item()).getSequence())
                            .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
                    assertThat(deadLetters)
                            .allSatisfy(d -> assertThat(d.error())
                                    .isInstanceOfSatisfying(
                                            GrpcCallException.class,
                                            g -> assertThat(g.code()).isEqualTo(Status.Code.INVALID_ARGUMENT)));
                }
                assertThat(tracker.committable()).as(as).isEqualTo(101);
            }
        }
    }

    @Test
    void batchSinkMakesOneCallPerList() throws Exception {
        PlainShapeService service = new PlainShapeService();
        try (ShapeServers servers = ShapeServers.start(Transport.IN_PROCESS, service.bindService())) {
            List<UploadSummary> responses = Pipeline.from(items(250, 16))
                    .batch(100, Duration.ofSeconds(10))
                    .to(upload(servers).batchSink())
                    .run(Duration.ofSeconds(30))
                    .value();
            assertThat(responses).extracting(UploadSummary::getCount).containsExactly(100L, 100L, 50L);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void wholeCallRetryRepeatsAFailedCallWithTheSameItems(Transport transport) throws Exception {
        // given: a server whose first call fails with UNAVAILABLE after 30 of its 100 items
        PlainShapeService service = new PlainShapeService();
        service.failAfter = 30;
        service.failCalls = 1;
        service.failWith = Status.UNAVAILABLE.withDescription("node draining");
        RecordingSleeper sleeper = new RecordingSleeper();
        try (ShapeServers servers = ShapeServers.start(transport, service.bindService())) {
            GrpcClientStream<Item, UploadSummary> idempotent = GrpcClientStream.builder(
                            servers.channel, ShapeServiceGrpc.getUploadMethod())
                    .retryWholeCalls(
                            ResilienceOptions.builder().sleeper(sleeper).build())
                    .build();
            // when
            List<UploadSummary> responses = Pipeline.from(items(200, 16))
                    .to(idempotent.sinkPerCall(100))
                    .run(Duration.ofSeconds(30))
                    .value();
            // then: the first chunk was sent twice (the server sees 30 items again), each chunk answered whole
            assertThat(responses).extracting(UploadSummary::getCount).containsExactly(100L, 100L);
            assertThat(responses.get(0).getSequenceSum()).isEqualTo(100L * 101 / 2);
            assertThat(service.calls.get()).isEqualTo(3);
            assertThat(sleeper.waits).hasSize(1);
        }
    }

    @Test
    void aNonRetryableStatusIsNotRetriedEvenWithWholeCallRetry() throws Exception {
        PlainShapeService service = new PlainShapeService();
        service.failAfter = 5;
        try (ShapeServers servers = ShapeServers.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcClientStream<Item, UploadSummary> idempotent = GrpcClientStream.builder(
                            servers.channel, ShapeServiceGrpc.getUploadMethod())
                    .retryWholeCalls(ResilienceOptions.builder()
                            .sleeper(new RecordingSleeper())
                            .build())
                    .build();
            assertThatThrownBy(() -> Pipeline.from(items(50, 16))
                            .to(idempotent.sinkPerCall(10))
                            .run(Duration.ofSeconds(30)))
                    .cause()
                    .isInstanceOfSatisfying(GrpcCallException.class, g -> {
                        assertThat(g.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                        // what the failed call had sent: the server failed it at its fifth item
                        assertThat(g.itemsDelivered()).isBetween(5L, 10L);
                    });
            assertThat(service.calls.get()).isEqualTo(1);
        }
    }

    @Test
    void wholeCallRetryIsRefusedForOneCallPerRunAndANonClientStreamingMethodIsRefused() throws Exception {
        PlainShapeService service = new PlainShapeService();
        try (ShapeServers servers = ShapeServers.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcClientStream<Item, UploadSummary> idempotent = GrpcClientStream.builder(
                            servers.channel, ShapeServiceGrpc.getUploadMethod())
                    .retryWholeCalls(ResilienceOptions.defaults())
                    .build();
            assertThatThrownBy(idempotent::sink)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("sinkPerCall");
            assertThatThrownBy(() -> GrpcClientStream.builder(servers.channel, ShapeServiceGrpc.getExchangeMethod()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("method must be client-streaming, got BIDI_STREAMING");
            assertThatThrownBy(() -> idempotent.sinkPerCall(0))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("itemsPerCall");
        }
    }
}
