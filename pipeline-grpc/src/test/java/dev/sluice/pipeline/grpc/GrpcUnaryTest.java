package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.grpc.ScriptedItemService.Plan;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GrpcUnaryTest {

    private final RecordingSleeper sleeper = new RecordingSleeper();
    private final ResilienceOptions options =
            ResilienceOptions.builder().sleeper(sleeper).build();

    private static GetItemRequest item(long sequence) {
        return GetItemRequest.newBuilder().setSequence(sequence).build();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void unavailableIsRetriedAlongTheSchedule(Transport transport) throws Exception {
        // given: three failures, then an answer
        ScriptedItemService service =
                new ScriptedItemService(call -> call <= 3 ? Plan.failAfter(0, Status.Code.UNAVAILABLE) : Plan.normal());
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(
                            server.channel(), ItemServiceGrpc.getGetItemMethod())
                    .resilience(options)
                    .build();

            // when
            Item answer = getItem.call(item(42));

            // then
            assertThat(answer.getSequence()).isEqualTo(42);
            assertThat(sleeper.millis()).containsExactly(100L, 200L, 400L);
            assertThat(service.calls.get()).isEqualTo(4);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void invalidArgumentIsNeverRetried(Transport transport) throws Exception {
        ScriptedItemService service = new ScriptedItemService(call -> Plan.failAfter(0, Status.Code.INVALID_ARGUMENT));
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(
                            server.channel(), ItemServiceGrpc.getGetItemMethod())
                    .resilience(options)
                    .build();

            Throwable thrown = catchThrowable(() -> getItem.call(item(1)));

            assertThat(thrown).isInstanceOf(GrpcCallException.class);
            assertThat(((GrpcCallException) thrown).code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(thrown)
                    .hasMessage("sluice.items.v1.ItemService/GetItem failed with INVALID_ARGUMENT (injected"
                            + " fault) after 1 call: INVALID_ARGUMENT is not retryable (the status table retries "
                            + options.retryableCodes() + ")");
            assertThat(service.calls.get()).isEqualTo(1);
            assertThat(sleeper.waits).isEmpty();
        }
    }

    @Test
    void theRetriesRunOutAfterMaxRetryAttempts() throws Exception {
        ScriptedItemService service = new ScriptedItemService(call -> Plan.failAfter(0, Status.Code.UNAVAILABLE));
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(
                            server.channel(), ItemServiceGrpc.getGetItemMethod())
                    .resilience(options)
                    .build();

            Throwable thrown = catchThrowable(() -> getItem.call(item(1)));

            assertThat(((GrpcCallException) thrown).attempts()).isEqualTo(4);
            assertThat(thrown).hasMessageEndingWith("gave up after 3 retries (maxRetryAttempts)");
            assertThat(service.calls.get()).isEqualTo(4);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void theDeadlineIsHonouredAndDeadlineExceededIsNotRetried(Transport transport) throws Exception {
        // given: a server that answers once (to warm both sides up) and then never, and a deadline of 300 ms
        ScriptedItemService service = new ScriptedItemService(call -> call == 1 ? Plan.normal() : Plan.stallAfter(0));
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            var channel = server.connectedChannel();
            GrpcUnary.builder(channel, ItemServiceGrpc.getGetItemMethod())
                    .build()
                    .call(item(1)); // warm-up: a cold JVM's class loading is not charged to the deadline
            long start = System.nanoTime(); // before the deadline is set: it is absolute from then
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(channel, ItemServiceGrpc.getGetItemMethod())
                    .resilience(options)
                    .callOptions(CallOptions.DEFAULT.withDeadlineAfter(300, TimeUnit.MILLISECONDS)) // absolute
                    .build();

            // when
            Throwable thrown = catchThrowable(() -> getItem.call(item(1)));
            long elapsed = System.nanoTime() - start;

            // then
            assertThat(((GrpcCallException) thrown).code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
            assertThat(elapsed).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(300));
            assertThat(elapsed).isLessThan(TimeUnit.SECONDS.toNanos(10));
            assertThat(service.calls.get()).isEqualTo(2);
            await().atMost(Duration.ofSeconds(5)).until(() -> service.cancelled.get() == 1);
        }
    }

    @Test
    void interruptingTheCallerCancelsTheCall() throws Exception {
        ScriptedItemService service = new ScriptedItemService(call -> Plan.stallAfter(0));
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(
                            server.channel(), ItemServiceGrpc.getGetItemMethod())
                    .resilience(options)
                    .build();
            AtomicReference<Throwable> outcome = new AtomicReference<>();
            Thread caller = Thread.ofVirtual().start(() -> outcome.set(catchThrowable(() -> getItem.call(item(1)))));
            await().atMost(Duration.ofSeconds(5)).until(() -> service.calls.get() == 1);

            // when
            caller.interrupt();
            caller.join(Duration.ofSeconds(5));

            // then
            assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
            await().atMost(Duration.ofSeconds(5)).until(() -> service.cancelled.get() == 1);
        }
    }

    @Test
    void aUnaryCallIsAStageFunctionInsideAConcurrentMap() throws Exception {
        // given: the first attempt for every third item fails with UNAVAILABLE
        Map<Long, Integer> attempts = new ConcurrentHashMap<>();
        ItemServiceGrpc.ItemServiceImplBase service = new ItemServiceGrpc.ItemServiceImplBase() {
            @Override
            public void getItem(GetItemRequest request, StreamObserver<Item> responses) {
                int attempt = attempts.merge(request.getSequence(), 1, Integer::sum);
                if (request.getSequence() % 3 == 0 && attempt == 1) {
                    responses.onError(Status.UNAVAILABLE.asRuntimeException());
                } else {
                    responses.onNext(Items.item(request.getSequence(), Items.payload(0)));
                    responses.onCompleted();
                }
            }
        };
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(
                            server.channel(), ItemServiceGrpc.getGetItemMethod())
                    .resilience(options)
                    .build();

            // when
            PipelineResult<List<Long>> result = Pipeline.from(Source.range(1, 101))
                    .pipelineName("enrich")
                    .meterRegistry(registry)
                    .map(n -> item(n))
                    .mapConcurrent(8, getItem)
                    .map(Item::getSequence)
                    .to(Sink.toList())
                    .run(Duration.ofSeconds(30));

            // then
            assertThat(result.value())
                    .containsExactlyElementsOf(
                            java.util.stream.LongStream.range(1, 101).boxed().toList());
            assertThat(registry.get("sluice.grpc.retries")
                            .tag("pipeline", "enrich")
                            .functionCounter()
                            .count())
                    .isEqualTo(33.0);
        }
    }

    @Test
    void onlyUnaryMethodsAreAccepted() throws Exception {
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, new CountingItemService().bindService())) {
            assertThatThrownBy(() -> GrpcUnary.builder(server.channel(), Items.STREAM))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(
                            "method must be unary, got SERVER_STREAMING for sluice.items.v1.ItemService/StreamItems");
        }
    }
}
