package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Outcome;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineListener;
import dev.sluice.pipeline.PipelineSummary;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.StageContext;
import dev.sluice.pipeline.grpc.ContextRecordingService.Seen;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import dev.sluice.pipeline.proto.shapes.ShapeServiceGrpc;
import dev.sluice.pipeline.proto.shapes.UploadSummary;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The gRPC context the stages of a served pipeline run in ({@link ServerStreams#serve}, {@code bidiStreaming}, and
 * {@code clientStreaming} for a pipeline that names {@link GrpcContextAccessor}): it carries the served call's deadline
 * to every call a stage makes, and it is cancelled, which cancels those calls, only once the run has been cancelled
 * or has ended. So a stage that starts a call in the instant the served call is cancelled leaves the run CANCELLED,
 * never FAILED with its call's CANCELLED.
 *
 * <p>B serves A's calls; its stages call C, a {@link ContextRecordingService} (GetItem answers at once, or never for
 * {@link ContextRecordingService#HANG}; each call's deadline and cancellation are recorded). B runs in-process on a
 * direct executor, so that gRPC tells the listeners of B's call context, and then B's cancel handler, one after the
 * other on the thread that cancels: what a test's own listener does first happens before ServerStreams hears of the
 * cancellation, every time.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServerStreamsContextTest {

    private static final Duration PROMPTLY = Duration.ofSeconds(10);

    private static GetItemRequest itemRequest(long sequence) {
        return GetItemRequest.newBuilder().setSequence(sequence).build();
    }

    /** C in-process; B, started by the test with its services, in-process on a direct executor; A's channel to B. */
    private static final class Chain implements AutoCloseable {
        final ContextRecordingService atC = new ContextRecordingService();
        final TestServer c = TestServer.start(Transport.IN_PROCESS, atC.bindService());
        final ManagedChannel toC = c.channel();
        /** How B's last run ended, told by a listener of the run. */
        final CompletableFuture<PipelineSummary> finished = new CompletableFuture<>();

        private final String name = "served-context-" + System.nanoTime();
        private Server b;
        private ManagedChannel toB;

        /** Records the run's summary in {@link #finished}. */
        final PipelineListener recorder = new PipelineListener() {
            @Override
            public void onFinish(PipelineSummary summary) {
                finished.complete(summary);
            }
        };

        GrpcUnary<GetItemRequest, Item> unaryToC() {
            return GrpcUnary.builder(toC, ItemServiceGrpc.getGetItemMethod()).build();
        }

        ManagedChannel startB(ServerServiceDefinition service) throws IOException {
            b = InProcessServerBuilder.forName(name)
                    .directExecutor()
                    .addService(service)
                    .build()
                    .start();
            toB = InProcessChannelBuilder.forName(name).directExecutor().build();
            return toB;
        }

        Outcome runOutcome() throws Exception {
            return finished.get(PROMPTLY.toSeconds(), TimeUnit.SECONDS).outcome();
        }

        @Override
        public void close() throws Exception {
            if (toB != null) {
                toB.shutdownNow();
                b.shutdownNow();
                b.awaitTermination(10, TimeUnit.SECONDS);
            }
            c.close();
        }
    }

    /**
     * Lets a stage call C in the instant the served call's context is cancelled, before ServerStreams is told: its
     * listener, added to the call's context in the service method before ServerStreams adds its own, is told first;
     * it lets the stage go and returns only once the stage's call has reached C or the stage has ended.
     */
    private static final class CancelInstant {
        final CountDownLatch stageWaiting = new CountDownLatch(1);
        private final CountDownLatch callCancelled = new CountDownLatch(1);
        private final ContextRecordingService atC;
        private volatile boolean stageEnded;

        CancelInstant(ContextRecordingService atC) {
            this.atC = atC;
        }

        /** Call it in the service method, before ServerStreams. */
        void listenFirst() {
            Context.current()
                    .addListener(
                            cancelled -> {
                                callCancelled.countDown();
                                await().atMost(PROMPTLY)
                                        .pollInterval(Duration.ofMillis(1))
                                        .until(() -> stageEnded
                                                || !atC.callsOf("GetItem").isEmpty());
                            },
                            Runnable::run);
        }

        /** The stage: waits until the served call's context is cancelled, then calls C (which never answers). */
        Item callC(GrpcUnary<GetItemRequest, Item> unary) throws InterruptedException {
            try {
                stageWaiting.countDown();
                callCancelled.await();
                return unary.call(itemRequest(ContextRecordingService.HANG));
            } finally {
                stageEnded = true;
            }
        }
    }

    /** A's observer: ignores what B sends. */
    private static <T> StreamObserver<T> ignoring() {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {}

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        };
    }

    @RepeatedTest(5)
    void aStageCallStartedAsTheServedCallIsCancelledLeavesTheRunCancelledNotFailed() throws Exception {
        try (Chain chain = new Chain()) {
            // given a served stream whose stage calls C as soon as the call's context is cancelled
            CancelInstant instant = new CancelInstant(chain.atC);
            GrpcUnary<GetItemRequest, Item> unary = chain.unaryToC();
            ManagedChannel toB = chain.startB(
                    new ItemServiceGrpc.ItemServiceImplBase() {
                        @Override
                        public void streamItems(StreamItemsRequest request, StreamObserver<Item> responses) {
                            instant.listenFirst();
                            ServerStreams.serve(
                                    Pipeline.from(Source.range(1, 2))
                                            .listener(chain.recorder)
                                            .map(n -> instant.callC(unary)),
                                    responses);
                        }
                    }.bindService());
            Context.CancellableContext a = Context.current().withCancellation();
            a.run(() -> ItemServiceGrpc.newStub(toB).streamItems(Items.request(1), ignoring()));
            cancelThenAssertTheRunCancelledNotFailed(chain, instant, a);
        }
    }

    @RepeatedTest(5)
    void aStageCallStartedAsABidiCallIsCancelledLeavesTheRunCancelledNotFailed() throws Exception {
        try (Chain chain = new Chain()) {
            // given a bidirectional call whose stage calls C for the client's first message, once the call's context
            // is cancelled
            CancelInstant instant = new CancelInstant(chain.atC);
            GrpcUnary<GetItemRequest, Item> unary = chain.unaryToC();
            ManagedChannel toB = chain.startB(
                    new ShapeServiceGrpc.ShapeServiceImplBase() {
                        @Override
                        public StreamObserver<Item> exchange(StreamObserver<Item> responses) {
                            instant.listenFirst();
                            return ServerStreams.bidiStreaming(
                                    responses,
                                    items -> Pipeline.from(items)
                                            .listener(chain.recorder)
                                            .map(item -> instant.callC(unary)));
                        }
                    }.bindService());
            Context.CancellableContext a = Context.current().withCancellation();
            StreamObserver<Item> requests =
                    a.call(() -> ShapeServiceGrpc.newStub(toB).exchange(ignoring()));
            requests.onNext(Item.newBuilder().setSequence(1).build());
            cancelThenAssertTheRunCancelledNotFailed(chain, instant, a);
        }
    }

    @RepeatedTest(5)
    void aStageCallStartedAsAClientStreamingCallIsCancelledLeavesTheRunCancelledNotFailed() throws Exception {
        try (Chain chain = new Chain()) {
            // given a client-streaming call whose pipeline names the gRPC context, and whose stage calls C for the
            // client's first message once the call's context is cancelled
            CancelInstant instant = new CancelInstant(chain.atC);
            GrpcUnary<GetItemRequest, Item> unary = chain.unaryToC();
            ManagedChannel toB = chain.startB(
                    new ShapeServiceGrpc.ShapeServiceImplBase() {
                        @Override
                        public StreamObserver<Item> upload(StreamObserver<UploadSummary> responses) {
                            instant.listenFirst();
                            return ServerStreams.clientStreaming(
                                    responses,
                                    items -> Pipeline.from(items)
                                            .propagate(new GrpcContextAccessor())
                                            .listener(chain.recorder)
                                            .map(item -> instant.callC(unary))
                                            .to(Sink.reduce(
                                                    UploadSummary.getDefaultInstance(), (summary, item) -> summary)));
                        }
                    }.bindService());
            Context.CancellableContext a = Context.current().withCancellation();
            StreamObserver<Item> requests =
                    a.call(() -> ShapeServiceGrpc.newStub(toB).upload(ignoring()));
            requests.onNext(Item.newBuilder().setSequence(1).build());
            cancelThenAssertTheRunCancelledNotFailed(chain, instant, a);
        }
    }

    /**
     * Once B's stage waits at the instant: A cancels its call; then B's run must have ended CANCELLED, though its
     * stage's call to C started after B's call context was cancelled, and that call must have reached C and been
     * cancelled.
     */
    private static void cancelThenAssertTheRunCancelledNotFailed(
            Chain chain, CancelInstant instant, Context.CancellableContext a) throws Exception {
        assertThat(instant.stageWaiting.await(10, TimeUnit.SECONDS)).isTrue();
        a.cancel(null);
        assertThat(chain.runOutcome()).isEqualTo(Outcome.CANCELLED);
        assertThat(chain.atC.callsOf("GetItem")).hasSize(1);
        await().atMost(PROMPTLY).until(() -> chain.atC.callsOf("GetItem").get(0).cancelled());
    }

    @Test
    void aStageCallCarriesTheServedCallsDeadline() throws Exception {
        try (Chain chain = new Chain()) {
            // given a served stream whose stage calls C once (GrpcUnary without a deadline of its own), recording
            // the deadline of the gRPC context it runs in; and the deadline of the served call, from its handler
            GrpcUnary<GetItemRequest, Item> unary = chain.unaryToC();
            AtomicReference<Deadline> servedDeadline = new AtomicReference<>();
            AtomicReference<Deadline> stageDeadline = new AtomicReference<>();
            ManagedChannel toB = chain.startB(
                    new ItemServiceGrpc.ItemServiceImplBase() {
                        @Override
                        public void streamItems(StreamItemsRequest request, StreamObserver<Item> responses) {
                            servedDeadline.set(Context.current().getDeadline());
                            ServerStreams.serve(
                                    Pipeline.from(Source.range(1, 2))
                                            .listener(chain.recorder)
                                            .map(n -> {
                                                stageDeadline.set(
                                                        Context.current().getDeadline());
                                                return unary.call(itemRequest(n));
                                            }),
                                    responses);
                        }
                    }.bindService());

            // when A calls B with a deadline 30 s away
            ItemServiceGrpc.newBlockingStub(toB)
                    .withDeadlineAfter(30, TimeUnit.SECONDS)
                    .streamItems(Items.request(1))
                    .forEachRemaining(item -> {});

            // then the stage ran with the served call's deadline, and its call to C arrived with what was left of it
            assertThat(chain.runOutcome()).isEqualTo(Outcome.COMPLETED);
            assertThat(servedDeadline.get()).isNotNull();
            assertThat(stageDeadline.get()).isNotNull().isEqualByComparingTo(servedDeadline.get());
            Seen atC = chain.atC.callsOf("GetItem").get(0);
            assertThat(atC.remainingNanos).isBetween(1L, TimeUnit.SECONDS.toNanos(30));
        }
    }

    @Test
    void aStageCallInFlightIsCancelledJustAfterTheRunWhenTheServedCallIsCancelled() throws Exception {
        try (Chain chain = new Chain()) {
            // given a served stream whose stage starts a call to C without waiting for it, then holds its item; a
            // listener on the stage's gRPC context records whether the run was already ending when it was cancelled
            CompletableFuture<Boolean> runEndingWhenContextCancelled = new CompletableFuture<>();
            CountDownLatch never = new CountDownLatch(1);
            ManagedChannel toB = chain.startB(
                    new ItemServiceGrpc.ItemServiceImplBase() {
                        @Override
                        public void streamItems(StreamItemsRequest request, StreamObserver<Item> responses) {
                            ServerStreams.serve(
                                    Pipeline.from(Source.range(1, 2))
                                            .listener(chain.recorder)
                                            .map(n -> {
                                                StageContext stage =
                                                        StageContext.current().orElseThrow();
                                                Context.current()
                                                        .addListener(
                                                                cancelled -> runEndingWhenContextCancelled.complete(
                                                                        stage.isAborting()),
                                                                Runnable::run);
                                                ItemServiceGrpc.newFutureStub(chain.toC)
                                                        .getItem(itemRequest(ContextRecordingService.HANG));
                                                never.await();
                                                return Item.getDefaultInstance();
                                            }),
                                    responses);
                        }
                    }.bindService());
            Context.CancellableContext a = Context.current().withCancellation();
            a.run(() -> ItemServiceGrpc.newStub(toB).streamItems(Items.request(1), ignoring()));
            await().atMost(PROMPTLY).until(() -> chain.atC.callsOf("GetItem").size() == 1);
            Seen atC = chain.atC.callsOf("GetItem").get(0);
            assertThat(atC.cancelled()).isFalse();

            // when A cancels
            a.cancel(null);

            // then C's call is cancelled, by the stage's context, which was cancelled once the run was ending
            await().atMost(PROMPTLY).until(atC::cancelled);
            assertThat(runEndingWhenContextCancelled.get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(chain.runOutcome()).isEqualTo(Outcome.CANCELLED);
        }
    }

    @Test
    void aStageCallInFlightIsCancelledWhenTheRunCompletes() throws Exception {
        try (Chain chain = new Chain()) {
            // given a served stream whose stage starts a call to C without waiting for its answer (only until C has
            // it), under a deadline far away; a listener on the stage's gRPC context records whether B's call had
            // already ended when the stage's context was cancelled
            CompletableFuture<Boolean> callEndedWhenStagesCancelled = new CompletableFuture<>();
            ManagedChannel toB = chain.startB(
                    new ItemServiceGrpc.ItemServiceImplBase() {
                        @Override
                        public void streamItems(StreamItemsRequest request, StreamObserver<Item> responses) {
                            Context served = Context.current();
                            ServerStreams.serve(
                                    Pipeline.from(Source.range(1, 2))
                                            .listener(chain.recorder)
                                            .map(n -> {
                                                Context.current()
                                                        .addListener(
                                                                cancelled -> callEndedWhenStagesCancelled.complete(
                                                                        served.isCancelled()),
                                                                Runnable::run);
                                                ItemServiceGrpc.newFutureStub(chain.toC)
                                                        .getItem(itemRequest(ContextRecordingService.HANG));
                                                await().atMost(PROMPTLY)
                                                        .until(() -> chain.atC
                                                                        .callsOf("GetItem")
                                                                        .size()
                                                                == 1);
                                                return Item.getDefaultInstance();
                                            }),
                                    responses);
                        }
                    }.bindService());

            // when A reads the whole stream
            List<Item> items = Pipeline.from(GrpcSource.builder(toB, Items.STREAM, Items.request(1))
                            .callOptions(io.grpc.CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.MINUTES))
                            .build())
                    .to(Sink.toList())
                    .run(PROMPTLY)
                    .value();

            // then B's run completed, and the call its stage left behind at C is cancelled with it: by the stage's
            // context, cancelled at the run's end before B answered its call (not by the end of B's call)
            assertThat(items).hasSize(1);
            assertThat(chain.runOutcome()).isEqualTo(Outcome.COMPLETED);
            assertThat(chain.atC.callsOf("GetItem")).hasSize(1);
            await().atMost(PROMPTLY)
                    .until(() -> chain.atC.callsOf("GetItem").get(0).cancelled());
            assertThat(callEndedWhenStagesCancelled.get(10, TimeUnit.SECONDS)).isFalse();
        }
    }
}
