package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.grpc.ScriptedItemService.Plan;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The request timeout, at its smallest allowed value of 10 s: these tests wait that long, so they run
 * concurrently with each other.
 */
@Execution(ExecutionMode.CONCURRENT)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class RequestTimeoutTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private static ResilienceOptions options() {
        return ResilienceOptions.builder()
                .requestTimeout(TIMEOUT)
                .sleeper(new RecordingSleeper())
                .build();
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aStalledServerTripsTheIdleTimeoutAndTheStreamResumes(Transport transport) throws Exception {
        // given: the first call sends 50 items and then hangs
        ScriptedItemService service = new ScriptedItemService(call -> call == 1 ? Plan.stallAfter(50) : Plan.normal());
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(200))
                    .prefetch(32)
                    .resilience(options())
                    .resumeWith(Items.RESUME_AFTER_CURSOR)
                    .build();
            InOrder inOrder = new InOrder();

            // when
            long start = System.nanoTime();
            PipelineResult<Long> result =
                    Pipeline.from(source).to(Sink.forEach(inOrder)).run(Duration.ofSeconds(60));
            long elapsed = System.nanoTime() - start;

            // then
            assertThat(elapsed).isGreaterThanOrEqualTo(TIMEOUT.toNanos());
            assertThat(elapsed).isLessThan(TIMEOUT.toNanos() + TimeUnit.SECONDS.toNanos(30));
            assertThat(inOrder.count()).isEqualTo(200);
            assertThat(result.summary().attributes())
                    .containsEntry(GrpcSource.ATTRIBUTE_ATTEMPTS, 2)
                    .containsEntry(GrpcSource.ATTRIBUTE_RESUMES, 1);
            assertThat(service.requests.get(1).getResumeAfter()).isEqualTo("50");
            // the hung call was cancelled, on the server too (its cancel handler runs on a server thread)
            await().atMost(Duration.ofSeconds(10)).until(() -> service.cancelled.get() == 1);
        }
    }

    @Test
    void aServerSilentBeforeItsFirstMessageIsRetried() throws Exception {
        ScriptedItemService service = new ScriptedItemService(call -> call == 1 ? Plan.stallAfter(0) : Plan.normal());
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(20))
                    .resilience(options())
                    .build();

            long start = System.nanoTime();
            PipelineResult<Long> result = Pipeline.from(source).to(Sink.count()).run(Duration.ofSeconds(60));

            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TIMEOUT.toNanos());
            assertThat(result.value()).isEqualTo(20);
            assertThat(result.summary().attributes())
                    .containsEntry(GrpcSource.ATTRIBUTE_ATTEMPTS, 2)
                    .containsEntry(GrpcSource.ATTRIBUTE_RESUMES, 0);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aSlowConsumerNeverTripsIt(Transport transport) throws Exception {
        // given: a prompt server, and a sink that stops for longer than the timeout in the middle of the stream
        CountingItemService service = new CountingItemService();
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(300))
                    .prefetch(32)
                    .resilience(options())
                    .resumeWith(Items.RESUME_AFTER_CURSOR)
                    .build();
            InOrder inOrder = new InOrder();

            // when
            long start = System.nanoTime();
            PipelineResult<Long> result = Pipeline.from(source)
                    .buffer(8)
                    .to(Sink.forEach((Item item) -> {
                        if (item.getSequence() == 100) {
                            Thread.sleep(TIMEOUT.plusSeconds(1).toMillis()); // a consumer slower than the timeout
                        }
                        inOrder.accept(item);
                    }))
                    .run(Duration.ofSeconds(60));

            // then: one call, never cancelled
            assertThat(System.nanoTime() - start)
                    .isGreaterThanOrEqualTo(TIMEOUT.plusSeconds(1).toNanos());
            assertThat(inOrder.count()).isEqualTo(300);
            assertThat(result.summary().attributes())
                    .containsEntry(GrpcSource.ATTRIBUTE_ATTEMPTS, 1)
                    .containsEntry(GrpcSource.ATTRIBUTE_RESUMES, 0);
            assertThat(service.runs).hasSize(1);
        }
    }

    @Test
    void forAUnaryCallTheTimeoutIsEachAttemptsDeadline() throws Exception {
        // given: a server that never answers
        ScriptedItemService service = new ScriptedItemService(call -> Plan.stallAfter(0));
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(
                            server.channel(), ItemServiceGrpc.getGetItemMethod())
                    .resilience(options())
                    .build();

            // when
            long start = System.nanoTime();
            Throwable thrown = catchThrowable(() -> getItem.call(GetItemRequest.getDefaultInstance()));
            long elapsed = System.nanoTime() - start;

            // then: DEADLINE_EXCEEDED after the timeout, not retried
            assertThat(((GrpcCallException) thrown).code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
            assertThat(elapsed).isGreaterThanOrEqualTo(TIMEOUT.toNanos());
            assertThat(elapsed).isLessThan(TIMEOUT.toNanos() + TimeUnit.SECONDS.toNanos(30));
            assertThat(service.calls.get()).isEqualTo(1);
        }
    }
}
