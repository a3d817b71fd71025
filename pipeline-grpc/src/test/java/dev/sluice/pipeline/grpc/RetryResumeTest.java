package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.grpc.ScriptedItemService.Plan;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import io.grpc.Status;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Collections;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RetryResumeTest {

    private final RecordingSleeper sleeper = new RecordingSleeper();
    private final ResilienceOptions options =
            ResilienceOptions.builder().sleeper(sleeper).build();

    @ParameterizedTest
    @EnumSource(Transport.class)
    void withAResumeStrategyEveryItemArrivesExactlyOnceInOrderDespiteRepeatedFailures(Transport transport)
            throws Exception {
        // given: the first 5 calls each send 37 items, then fail with UNAVAILABLE
        ScriptedItemService service = new ScriptedItemService(
                call -> call <= 5 ? Plan.failAfter(37, Status.Code.UNAVAILABLE) : Plan.normal());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(1_000))
                    .prefetch(16)
                    .resilience(options)
                    .resumeWith(Items.RESUME_AFTER_CURSOR)
                    .build();
            InOrder inOrder = new InOrder();

            // when
            PipelineResult<Long> result = Pipeline.from(source)
                    .pipelineName("resumed")
                    .meterRegistry(registry)
                    .to(Sink.forEach(inOrder))
                    .run(Duration.ofSeconds(30));

            // then
            assertThat(result.value()).isEqualTo(1_000);
            assertThat(inOrder.count()).isEqualTo(1_000);
            assertThat(service.requests)
                    .extracting(StreamItemsRequest::getResumeAfter)
                    .containsExactly("", "37", "74", "111", "148", "185");
            assertThat(sleeper.millis()).containsExactly(100L, 100L, 100L, 100L, 100L); // progress resets the count
            assertThat(result.summary().attributes())
                    .containsEntry(GrpcSource.ATTRIBUTE_ATTEMPTS, 6)
                    .containsEntry(GrpcSource.ATTRIBUTE_RESUMES, 5)
                    .containsEntry(GrpcSource.ATTRIBUTE_STATUS, "OK");
            assertThat(registry.get("sluice.grpc.resumes").functionCounter().count())
                    .isEqualTo(5.0);
            assertThat(registry.get("sluice.grpc.retries").functionCounter().count())
                    .isEqualTo(0.0);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void withoutAResumeStrategyAFailureAfterTheFirstItemSurfacesClearly(Transport transport) throws Exception {
        // given
        ScriptedItemService service = new ScriptedItemService(call -> Plan.failAfter(37, Status.Code.UNAVAILABLE));
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(1_000))
                    .resilience(options)
                    .build();

            // when
            Throwable thrown =
                    catchThrowable(() -> Pipeline.from(source).to(Sink.count()).run(Duration.ofSeconds(30)));

            // then
            assertThat(thrown).isInstanceOf(PipelineFailedException.class);
            PipelineFailedException failed = (PipelineFailedException) thrown;
            assertThat(failed.stage()).isEqualTo("source");
            assertThat(failed.summary().stage("source").orElseThrow().itemsOut())
                    .isEqualTo(37);
            GrpcCallException e = (GrpcCallException) failed.getCause();
            assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(e.attempts()).isEqualTo(1);
            assertThat(e.itemsDelivered()).isEqualTo(37);
            assertThat(e.getMessage())
                    .isEqualTo("sluice.items.v1.ItemService/StreamItems failed with UNAVAILABLE"
                            + " (injected fault) after 1 call and 37 items delivered: the stream broke after its first item"
                            + " and the source has no ResumeStrategy, so it cannot continue without repeating items");
            assertThat(service.calls.get()).isEqualTo(1);
            assertThat(sleeper.waits).isEmpty();
            assertThat(failed.summary().attributes()).containsEntry(GrpcSource.ATTRIBUTE_STATUS, "UNAVAILABLE");
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void moreSpacedOutFailuresThanTheRetryBudgetStillComplete(Transport transport) throws Exception {
        // given: a budget of 1 retry, and 8 calls that each fail after 10 items
        ScriptedItemService service =
                new ScriptedItemService(call -> call <= 8 ? Plan.failAfter(10, Status.Code.INTERNAL) : Plan.normal());
        ResilienceOptions oneRetry = options.toBuilder().maxRetryAttempts(1).build();
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(200))
                    .resilience(oneRetry)
                    .resumeWith(Items.RESUME_AFTER_CURSOR)
                    .build();
            InOrder inOrder = new InOrder();

            // when
            PipelineResult<Long> result =
                    Pipeline.from(source).to(Sink.forEach(inOrder)).run(Duration.ofSeconds(30));

            // then
            assertThat(inOrder.count()).isEqualTo(200);
            assertThat(result.summary().attributes())
                    .containsEntry(GrpcSource.ATTRIBUTE_ATTEMPTS, 9)
                    .containsEntry(GrpcSource.ATTRIBUTE_RESUMES, 8);
        }
    }

    @Test
    void beforeTheFirstItemTheBackoffFollowsTheFormulaThenGivesUp() throws Exception {
        // given: a server that always fails at once
        ScriptedItemService service = new ScriptedItemService(call -> Plan.failAfter(0, Status.Code.UNAVAILABLE));
        ResilienceOptions six = options.toBuilder().maxRetryAttempts(6).build();
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(10))
                    .resilience(six)
                    .resumeWith(Items.RESUME_AFTER_CURSOR)
                    .build();

            // when
            Throwable thrown =
                    catchThrowable(() -> Pipeline.from(source).to(Sink.count()).run(Duration.ofSeconds(30)));

            // then: retry r waited min(100 × 2^(r−1), 1000) ms; 6 retries, so 7 calls
            assertThat(sleeper.millis()).containsExactly(100L, 200L, 400L, 800L, 1000L, 1000L);
            GrpcCallException e = (GrpcCallException) thrown.getCause();
            assertThat(e.attempts()).isEqualTo(7);
            assertThat(e.getMessage()).endsWith("gave up after 6 retries in a row without an item (maxRetryAttempts)");
            assertThat(service.calls.get()).isEqualTo(7);
            assertThat(service.requests)
                    .extracting(StreamItemsRequest::getResumeAfter)
                    .containsOnly(""); // retries, not resumes: the original request each time
        }
    }

    @Test
    void retriesBeforeTheFirstItemRepeatTheOriginalRequest() throws Exception {
        // given
        ScriptedItemService service =
                new ScriptedItemService(call -> call <= 2 ? Plan.failAfter(0, Status.Code.UNAVAILABLE) : Plan.normal());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(50))
                    .resilience(options)
                    .build(); // no resume strategy needed before the first item

            // when
            PipelineResult<Long> result = Pipeline.from(source)
                    .meterRegistry(registry)
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));

            // then
            assertThat(result.value()).isEqualTo(50);
            assertThat(sleeper.millis()).containsExactly(100L, 200L);
            assertThat(result.summary().attributes())
                    .containsEntry(GrpcSource.ATTRIBUTE_ATTEMPTS, 3)
                    .containsEntry(GrpcSource.ATTRIBUTE_RESUMES, 0);
            assertThat(registry.get("sluice.grpc.retries").functionCounter().count())
                    .isEqualTo(2.0);
        }
    }

    @Test
    void theAttemptCountResetsWhenAResumedCallDeliversAnItem() throws Exception {
        // given: 10 items then a failure; two calls that fail at once; 10 more then a failure; then the rest
        ScriptedItemService service = new ScriptedItemService(call -> switch (call) {
            case 1, 4 -> Plan.failAfter(10, Status.Code.UNAVAILABLE);
            case 2, 3 -> Plan.failAfter(0, Status.Code.UNAVAILABLE);
            default -> Plan.normal();
        });
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(100))
                    .resilience(options)
                    .resumeWith(Items.RESUME_AFTER_CURSOR)
                    .build();
            InOrder inOrder = new InOrder();

            // when
            Pipeline.from(source).to(Sink.forEach(inOrder)).run(Duration.ofSeconds(30));

            // then: retries 1, 2, 3 without progress; call 4 delivered items, so the next wait is retry 1's again
            assertThat(sleeper.millis()).containsExactly(100L, 200L, 400L, 100L);
            assertThat(inOrder.count()).isEqualTo(100);
        }
    }

    @Test
    void aServerThatFailsWithoutProgressExhaustsTheBudgetEvenMidStream() throws Exception {
        // given: 10 items, then calls that fail at once
        ScriptedItemService service =
                new ScriptedItemService(call -> Plan.failAfter(call == 1 ? 10 : 0, Status.Code.UNAVAILABLE));
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(100))
                    .resilience(options)
                    .resumeWith(Items.RESUME_AFTER_CURSOR)
                    .build();

            // when
            Throwable thrown =
                    catchThrowable(() -> Pipeline.from(source).to(Sink.count()).run(Duration.ofSeconds(30)));

            // then
            GrpcCallException e = (GrpcCallException) thrown.getCause();
            assertThat(e.attempts()).isEqualTo(4); // the call with progress, then 3 resumes without
            assertThat(e.itemsDelivered()).isEqualTo(10);
            assertThat(sleeper.millis()).containsExactly(100L, 200L, 400L);
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Status.Code.class,
            names = {
                "INVALID_ARGUMENT",
                "PERMISSION_DENIED",
                "UNAUTHENTICATED",
                "NOT_FOUND",
                "DEADLINE_EXCEEDED",
                "FAILED_PRECONDITION",
                "RESOURCE_EXHAUSTED",
                "UNIMPLEMENTED"
            })
    void codesOutsideTheStatusTableAreNeverRetried(Status.Code code) throws Exception {
        // given
        ScriptedItemService service = new ScriptedItemService(call -> Plan.failAfter(0, code));
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(10))
                    .resilience(options)
                    .resumeWith(Items.RESUME_AFTER_CURSOR)
                    .build();

            // when
            Throwable thrown =
                    catchThrowable(() -> Pipeline.from(source).to(Sink.count()).run(Duration.ofSeconds(30)));

            // then
            GrpcCallException e = (GrpcCallException) thrown.getCause();
            assertThat(e.code()).isEqualTo(code);
            assertThat(e.getMessage()).contains(code + " is not retryable");
            assertThat(service.calls.get()).isEqualTo(1);
            assertThat(sleeper.waits).isEmpty();
        }
    }

    @Test
    void theStatusTableDecidesWhatIsRetried() throws Exception {
        // given: RESOURCE_EXHAUSTED retried, UNAVAILABLE not
        ScriptedItemService service = new ScriptedItemService(call -> switch (call) {
            case 1 -> Plan.failAfter(0, Status.Code.RESOURCE_EXHAUSTED);
            default -> Plan.failAfter(0, Status.Code.UNAVAILABLE);
        });
        ResilienceOptions table = options.toBuilder()
                .retryableCodes(Collections.singleton(Status.Code.RESOURCE_EXHAUSTED))
                .build();
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(10))
                    .resilience(table)
                    .build();

            // when
            Throwable thrown =
                    catchThrowable(() -> Pipeline.from(source).to(Sink.count()).run(Duration.ofSeconds(30)));

            // then
            assertThat(((GrpcCallException) thrown.getCause()).code()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(service.calls.get()).isEqualTo(2);
        }
    }

    @Test
    void withoutResilienceOptionsTheSourceMakesOneCall() throws Exception {
        ScriptedItemService service = new ScriptedItemService(call -> Plan.failAfter(0, Status.Code.UNAVAILABLE));
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            Throwable thrown =
                    catchThrowable(() -> Pipeline.from(GrpcSource.of(server.channel(), Items.STREAM, Items.request(10)))
                            .to(Sink.count())
                            .run(Duration.ofSeconds(30)));
            assertThat(thrown.getCause())
                    .hasMessageEndingWith("the source has no ResilienceOptions, so it makes one call");
            assertThat(service.calls.get()).isEqualTo(1);
        }
    }

    @Test
    void jitteredWaitsStayWithinTheirFactorOfTheSchedule() throws Exception {
        ScriptedItemService service = new ScriptedItemService(call -> Plan.failAfter(0, Status.Code.UNAVAILABLE));
        ResilienceOptions jittered = options.toBuilder().jitter(0.25).build();
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(10))
                    .resilience(jittered)
                    .build();
            catchThrowable(() -> Pipeline.from(source).to(Sink.count()).run(Duration.ofSeconds(30)));
            assertThat(sleeper.waits).hasSize(3);
            for (int r = 1; r <= 3; r++) {
                Duration scheduled = jittered.backoff(r); // 100, 200, 400 ms: below the cap
                assertThat(sleeper.waits.get(r - 1))
                        .isBetween(
                                scheduled.multipliedBy(3).dividedBy(4),
                                scheduled.multipliedBy(5).dividedBy(4));
            }
        }
    }
}
