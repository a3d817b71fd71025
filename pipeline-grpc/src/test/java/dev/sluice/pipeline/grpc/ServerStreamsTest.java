package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineCancelledException;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.grpc.internal.ReadyGate;
import dev.sluice.pipeline.proto.items.Item;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.stub.CallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ServerStreamsTest {

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of(new IllegalArgumentException("page size must be positive"), Status.Code.INVALID_ARGUMENT),
                Arguments.of(new NoSuchElementException("no such user"), Status.Code.NOT_FOUND),
                Arguments.of(new SecurityException("not yours"), Status.Code.PERMISSION_DENIED),
                Arguments.of(new IllegalStateException("not open yet"), Status.Code.FAILED_PRECONDITION),
                Arguments.of(new UnsupportedOperationException("not here"), Status.Code.UNIMPLEMENTED),
                Arguments.of(
                        Status.RESOURCE_EXHAUSTED.withDescription("quota").asRuntimeException(),
                        Status.Code.RESOURCE_EXHAUSTED),
                Arguments.of(new RuntimeException("secret connection string"), Status.Code.INTERNAL));
    }

    @ParameterizedTest
    @MethodSource("failures")
    void aFailingProducerPipelineGivesTheClientTheMappedStatus(RuntimeException failure, Status.Code expected)
            throws Exception {
        // given: a producer that sends 5 items, then fails
        LambdaItemService service = new LambdaItemService((request, responses) -> {
            Source<Item> failing = emitter -> {
                for (long s = 1; s <= 5; s++) {
                    emitter.emit(Items.item(s, Items.payload(0)));
                }
                throw failure;
            };
            ServerStreams.serve(failing, responses);
        });
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            // when / then
            GrpcCallException e = clientFailure(server);
            assertThat(e.code()).isEqualTo(expected);
            if (expected == Status.Code.INTERNAL) {
                assertThat(e.status().getDescription()).doesNotContain("secret").contains("RuntimeException");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aHandlerThatThrowsGivesTheMappedStatusWithTheInterceptor(Transport transport) throws Exception {
        // given
        LambdaItemService service = new LambdaItemService((request, responses) -> {
            throw new IllegalArgumentException("count must be positive, got " + request.getCount());
        });
        try (TestServer server = TestServer.start(
                transport, ServerInterceptors.intercept(service.bindService(), ServerStreams.exceptionMapping()))) {
            // when / then
            GrpcCallException e = clientFailure(server);
            assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.status().getDescription()).isEqualTo("count must be positive, got 1000");
            assertThat(e.getMessage()).contains("sluice.items.v1.ItemService/StreamItems failed with INVALID_ARGUMENT");
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void theCallsDeadlineEndsTheProducerPipeline(Transport transport) throws Exception {
        // given: a producer that is quick for a finite request and slow and endless otherwise
        // Handlers run on the server's executor, so the warm-up call's handler may record its run after the deadline
        // call's: the run under test is picked by its request, not by the order of the list.
        List<PipelineHandle<Long>> endlessRuns = new CopyOnWriteArrayList<>();
        LambdaItemService service = new LambdaItemService((request, responses) -> {
            long count = request.getCount();
            Source<Item> producer = emitter -> {
                for (long s = 1; count == 0 || s <= count; s++) {
                    if (count == 0) {
                        Thread.sleep(20); // a slow producer
                    }
                    emitter.emit(Items.item(s, Items.payload(0)));
                }
            };
            PipelineHandle<Long> run = ServerStreams.serve(producer, responses);
            if (count == 0) {
                endlessRuns.add(run);
            }
        });
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            Channel channel = server.connectedChannel();
            // A first call warms both sides up, so that a cold JVM's class loading is not charged to the deadline.
            Pipeline.from(GrpcSource.of(channel, Items.STREAM, Items.request(10)))
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));
            long start = System.nanoTime(); // before the deadline is set: it is absolute from then
            GrpcSource<?, Item> source = GrpcSource.builder(channel, Items.STREAM, Items.request(0))
                    .callOptions(CallOptions.DEFAULT.withDeadlineAfter(1, TimeUnit.SECONDS))
                    .build();

            // when
            assertThatThrownBy(() -> Pipeline.from(source).to(Sink.count()).run(Duration.ofSeconds(30)))
                    .isInstanceOf(PipelineFailedException.class)
                    .cause()
                    .isInstanceOf(GrpcCallException.class)
                    .satisfies(
                            e -> assertThat(((GrpcCallException) e).code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));

            // then: the producer pipeline serving the call has ended too
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(1));
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> !endlessRuns.isEmpty() && endlessRuns.get(0).isDone());
            assertThat(endlessRuns).hasSize(1);
            assertThatThrownBy(() -> endlessRuns.get(0).await()).isInstanceOf(PipelineCancelledException.class);
        }
    }

    @Test
    void servingRequiresTheObserverOfAServerCall() {
        StreamObserver<Item> plain = new StreamObserver<>() {
            @Override
            public void onNext(Item value) {}

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
        };
        assertThatThrownBy(() -> ServerStreams.serve(Source.of(Items.item(1, Items.payload(0))), plain))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(
                        "responses must be the ServerCallStreamObserver gRPC passed to the service method");
    }

    @Test
    void statusForUnwrapsPipelineFailuresAndHidesUnknownMessages() {
        assertThat(ServerStreams.statusFor(
                                new java.util.concurrent.ExecutionException(new IllegalArgumentException("bad")))
                        .getCode())
                .isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(ServerStreams.statusFor(new java.util.concurrent.TimeoutException("slow"))
                        .getCode())
                .isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(ServerStreams.statusFor(new InterruptedException()).getCode())
                .isEqualTo(Status.Code.CANCELLED);
        // a CancellationException is an IllegalStateException too, but it is a cancellation
        assertThat(ServerStreams.statusFor(new java.util.concurrent.CancellationException("stopped"))
                        .getCode())
                .isEqualTo(Status.Code.CANCELLED);
        Status internal = ServerStreams.statusFor(new NullPointerException("password=hunter2"));
        assertThat(internal.getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(internal.getDescription()).doesNotContain("hunter2");
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void theReadyGateNeverLosesAWakeUp() throws Exception {
        // given: a call that turns ready on another thread, racing the writer's check, 20,000 times
        AtomicBoolean ready = new AtomicBoolean();
        CallStreamObserver<Item> call = new FakeCall(ready);
        ReadyGate gate = new ReadyGate(call);
        for (int i = 0; i < 20_000; i++) {
            ready.set(false);
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    gate.awaitReady();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            // when
            ready.set(true);
            gate.signal();
            // then
            writer.join(Duration.ofSeconds(5));
            assertThat(writer.isAlive())
                    .as("writer still waiting in round %d", i)
                    .isFalse();
        }
    }

    private static GrpcCallException clientFailure(TestServer server) {
        GrpcSource<?, Item> source = GrpcSource.of(server.channel(), Items.STREAM, Items.request(1000));
        Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(
                () -> Pipeline.from(source).to(Sink.count()).run(Duration.ofSeconds(30)));
        assertThat(thrown).isInstanceOf(PipelineFailedException.class).cause().isInstanceOf(GrpcCallException.class);
        return (GrpcCallException) thrown.getCause();
    }

    /** Only what the gate uses: isReady. */
    private static final class FakeCall extends CallStreamObserver<Item> {
        private final AtomicBoolean ready;

        FakeCall(AtomicBoolean ready) {
            this.ready = ready;
        }

        @Override
        public boolean isReady() {
            return ready.get();
        }

        @Override
        public void setOnReadyHandler(Runnable onReadyHandler) {}

        @Override
        public void disableAutoInboundFlowControl() {}

        @Override
        public void request(int count) {}

        @Override
        public void setMessageCompression(boolean enable) {}

        @Override
        public void onNext(Item value) {}

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
    }
}
