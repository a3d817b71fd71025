package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.grpc.ScriptedItemService.Plan;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.grpc.CallOptions;
import io.grpc.Status;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CircuitBreakerTest {

    /** A clock the test moves by hand, so that "open for 30 s" takes no time. */
    private static final class ManualClock extends Clock {
        private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));

        void advance(Duration d) {
            now.updateAndGet(i -> i.plus(d));
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    }

    private final ManualClock clock = new ManualClock();
    private final CircuitBreakerRegistry breakers =
            CircuitBreakerRegistry.of(CircuitBreakerConfig.from(GrpcCircuitBreakers.defaultConfig())
                    .clock(clock)
                    .build());
    private final List<CircuitBreaker.State> transitions = new CopyOnWriteArrayList<>();

    private CircuitBreaker breakerFor(TestServer server) {
        CircuitBreaker breaker = GrpcCircuitBreakers.forTarget(breakers, server.channel());
        breaker.getEventPublisher()
                .onStateTransition(e -> transitions.add(e.getStateTransition().getToState()));
        return breaker;
    }

    @Test
    void opensAfterFiveFailedCallsFailsFastThenHalfOpensAndCloses() throws Exception {
        // given: a target that fails its first 5 calls with UNAVAILABLE, then recovers
        ScriptedItemService service =
                new ScriptedItemService(call -> call <= 5 ? Plan.failAfter(0, Status.Code.UNAVAILABLE) : Plan.normal());
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            CircuitBreaker breaker = breakerFor(server);
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(
                            server.channel(), ItemServiceGrpc.getGetItemMethod())
                    .circuitBreaker(breaker)
                    .build();
            GetItemRequest request = GetItemRequest.newBuilder().setSequence(7).build();

            // when: five failures
            for (int i = 0; i < 5; i++) {
                assertThat(catchThrowable(() -> getItem.call(request))).isInstanceOf(GrpcCallException.class);
            }

            // then: open, and the next call fails fast without reaching the target
            assertThat(breaker.getState()).isEqualTo(CircuitBreaker.State.OPEN);
            Throwable fast = catchThrowable(() -> getItem.call(request));
            assertThat(fast)
                    .isInstanceOf(GrpcCallException.class)
                    .hasCauseInstanceOf(CallNotPermittedException.class)
                    .hasMessageContaining(
                            "the circuit breaker '" + breaker.getName() + "' is OPEN, so the call fails fast");
            assertThat(((GrpcCallException) fast).code()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(service.calls.get()).isEqualTo(5);

            // when: still open just before 30 s
            clock.advance(Duration.ofMillis(29_999));
            assertThat(catchThrowable(() -> getItem.call(request))).hasCauseInstanceOf(CallNotPermittedException.class);

            // when: after 30 s, a trial call goes through and succeeds
            clock.advance(Duration.ofMillis(2));
            assertThat(getItem.call(request).getSequence()).isEqualTo(7);

            // then
            assertThat(service.calls.get()).isEqualTo(6);
            assertThat(transitions)
                    .containsExactly(
                            CircuitBreaker.State.OPEN, CircuitBreaker.State.HALF_OPEN, CircuitBreaker.State.CLOSED);
        }
    }

    @Test
    void aStreamSettlesItsTrialAtItsFirstItemAndNeverHoldsThePermission() throws Exception {
        // given: a target that failed 5 calls (the breaker is open), then recovered, and the 30 s have passed;
        // its next stream sends 200 items and then stays open, as a long stream does between bursts
        ScriptedItemService service = new ScriptedItemService(call -> call <= 5
                ? Plan.failAfter(0, Status.Code.UNAVAILABLE)
                : call == 6 ? Plan.stallAfter(200) : Plan.normal());
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            CircuitBreaker breaker = breakerFor(server);
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(
                            server.channel(), ItemServiceGrpc.getGetItemMethod())
                    .circuitBreaker(breaker)
                    .build();
            GetItemRequest request = GetItemRequest.newBuilder().setSequence(3).build();
            for (int i = 0; i < 5; i++) {
                catchThrowable(() -> getItem.call(request));
            }
            assertThat(breaker.getState()).isEqualTo(CircuitBreaker.State.OPEN);
            clock.advance(Duration.ofSeconds(31));

            // when: a stream that stays open takes the half-open breaker's one trial permission, and delivers items
            AtomicLong received = new AtomicLong();
            PipelineHandle<Long> stream = Pipeline.from(
                            GrpcSource.builder(server.channel(), Items.STREAM, Items.request(1_000))
                                    .circuitBreaker(breaker)
                                    .build())
                    .to(Sink.forEach((Item item) -> received.incrementAndGet()))
                    .start();
            await().atMost(Duration.ofSeconds(10)).until(() -> received.get() == 200);

            // then: its first item settled the trial, closing the breaker while the stream is still open, so other
            // calls pass
            assertThat(breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
            assertThat(stream.isDone()).isFalse();
            assertThat(getItem.call(request).getSequence()).isEqualTo(3);
            stream.cancel();
            catchThrowable(stream::await);
        }
    }

    @Test
    void aFailedTrialCallOpensTheBreakerAgain() throws Exception {
        ScriptedItemService service = new ScriptedItemService(call -> Plan.failAfter(0, Status.Code.INTERNAL));
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            CircuitBreaker breaker = breakerFor(server);
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(
                            server.channel(), ItemServiceGrpc.getGetItemMethod())
                    .circuitBreaker(breaker)
                    .build();
            GetItemRequest request = GetItemRequest.getDefaultInstance();
            for (int i = 0; i < 5; i++) {
                catchThrowable(() -> getItem.call(request));
            }
            clock.advance(Duration.ofMillis(30_001));

            // when
            Throwable trial = catchThrowable(() -> getItem.call(request));

            // then
            assertThat(((GrpcCallException) trial).code()).isEqualTo(Status.Code.INTERNAL);
            assertThat(transitions)
                    .containsExactly(
                            CircuitBreaker.State.OPEN, CircuitBreaker.State.HALF_OPEN, CircuitBreaker.State.OPEN);
        }
    }

    @Test
    void nonRetryableStatusesDoNotOpenTheBreaker() throws Exception {
        ScriptedItemService service = new ScriptedItemService(call -> Plan.failAfter(0, Status.Code.INVALID_ARGUMENT));
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            CircuitBreaker breaker = breakerFor(server);
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(
                            server.channel(), ItemServiceGrpc.getGetItemMethod())
                    .resilience(ResilienceOptions.defaults())
                    .circuitBreaker(breaker)
                    .build();
            for (int i = 0; i < 10; i++) {
                catchThrowable(() -> getItem.call(GetItemRequest.getDefaultInstance()));
            }
            assertThat(breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
            assertThat(service.calls.get()).isEqualTo(10);
        }
    }

    @Test
    void aStreamThatDeliversBeforeEachFailureCountsAsProgressAndKeepsTheBreakerClosed() throws Exception {
        // given: 8 calls that each deliver 10 items and fail, more than the breaker's threshold of 5
        ScriptedItemService service = new ScriptedItemService(
                call -> call <= 8 ? Plan.failAfter(10, Status.Code.UNAVAILABLE) : Plan.normal());
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            CircuitBreaker breaker = breakerFor(server);
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(200))
                    .resilience(ResilienceOptions.builder()
                            .sleeper(new RecordingSleeper())
                            .build())
                    .resumeWith(Items.RESUME_AFTER_CURSOR)
                    .circuitBreaker(breaker)
                    .build();
            InOrder inOrder = new InOrder();

            // when
            Pipeline.from(source).to(Sink.forEach(inOrder)).run(Duration.ofSeconds(30));

            // then
            assertThat(inOrder.count()).isEqualTo(200);
            assertThat(breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
            assertThat(breaker.getMetrics().getNumberOfFailedCalls()).isZero();
            assertThat(transitions).isEmpty();
        }
    }

    @Test
    void aStreamFailingBeforeItsFirstItemOpensTheBreakerAndStopsRetrying() throws Exception {
        // given: a target that always fails at once, and a retry budget larger than the breaker's threshold; the
        // breakers' own meters bound as the README shows, before the target's breaker exists
        ScriptedItemService service = new ScriptedItemService(call -> Plan.failAfter(0, Status.Code.UNAVAILABLE));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(breakers).bindTo(registry);
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            CircuitBreaker breaker = breakerFor(server);
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(10))
                    .resilience(ResilienceOptions.builder()
                            .maxRetryAttempts(10)
                            .sleeper(new RecordingSleeper())
                            .build())
                    .circuitBreaker(breaker)
                    .build();

            // when
            Throwable thrown = catchThrowable(() -> Pipeline.from(source)
                    .meterRegistry(registry)
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30)));

            // then
            assertThat(thrown.getCause())
                    .isInstanceOf(GrpcCallException.class)
                    .hasCauseInstanceOf(CallNotPermittedException.class);
            assertThat(((GrpcCallException) thrown.getCause()).attempts()).isEqualTo(5);
            assertThat(service.calls.get()).isEqualTo(5);
            // and resilience4j's binder publishes the open state; Sluice adds no state meter of its own
            assertThat(registry.get("resilience4j.circuitbreaker.state")
                            .tag("name", breaker.getName())
                            .tag("state", "open")
                            .gauge()
                            .value())
                    .isEqualTo(1.0);
            assertThat(registry.find("resilience4j.circuitbreaker.state")
                            .tag("state", "closed")
                            .gauge()
                            .value())
                    .isZero();
            assertThat(registry.getMeters())
                    .noneMatch(m -> m.getId().getName().contains("circuit")
                            && m.getId().getName().startsWith("sluice."));
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"stream", "unary"})
    void aCallThatMissesItsDeadlineWithoutAnItemIsAFailureOfTheTarget(String shape) throws Exception {
        // given: a target that never answers, and calls with a deadline of 200 ms
        ScriptedItemService service = new ScriptedItemService(call -> Plan.stallAfter(0));
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            CircuitBreaker breaker = breakerFor(server);
            ResilienceOptions options =
                    ResilienceOptions.builder().sleeper(new RecordingSleeper()).build();
            CallOptions deadline = CallOptions.DEFAULT.withDeadlineAfter(200, TimeUnit.MILLISECONDS);

            // when
            Throwable thrown;
            if (shape.equals("stream")) {
                GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                                server.channel(), Items.STREAM, Items.request(10))
                        .callOptions(deadline)
                        .resilience(options)
                        .circuitBreaker(breaker)
                        .build();
                thrown = catchThrowable(
                                () -> Pipeline.from(source).to(Sink.count()).run(Duration.ofSeconds(30)))
                        .getCause();
            } else {
                GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(
                                server.channel(), ItemServiceGrpc.getGetItemMethod())
                        .callOptions(deadline)
                        .resilience(options)
                        .circuitBreaker(breaker)
                        .build();
                thrown = catchThrowable(() -> getItem.call(GetItemRequest.getDefaultInstance()));
            }

            // then: not retried, and recorded as a failed call
            assertThat(((GrpcCallException) thrown).code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
            assertThat(((GrpcCallException) thrown).attempts()).isEqualTo(1);
            assertThat(breaker.getMetrics().getNumberOfFailedCalls()).isEqualTo(1);
            assertThat(breaker.getMetrics().getNumberOfSuccessfulCalls()).isZero();
        }
    }

    @Test
    void oneBreakerPerTargetIsSharedByItsCalls() throws Exception {
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, new CountingItemService().bindService())) {
            var channel = server.channel();
            assertThat(GrpcCircuitBreakers.forTarget(breakers, channel))
                    .isSameAs(GrpcCircuitBreakers.forTarget(breakers, channel));
        }
    }

    @Test
    void aStreamThatCompletesClosesAHalfOpenBreaker() throws Exception {
        ScriptedItemService service = new ScriptedItemService(call -> Plan.normal());
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            CircuitBreaker breaker = breakerFor(server);
            breaker.transitionToOpenState();
            clock.advance(Duration.ofMillis(30_001));
            PipelineResult<Long> result = Pipeline.from(
                            GrpcSource.builder(server.channel(), Items.STREAM, Items.request(20))
                                    .circuitBreaker(breaker)
                                    .build())
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));
            assertThat(result.value()).isEqualTo(20);
            assertThat(breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
        }
    }
}
