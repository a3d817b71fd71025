package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import io.grpc.Context;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A {@link GrpcUnary} or {@link GrpcSource} started in a gRPC {@link Context} with a deadline uses the earlier of that
 * deadline and its own; a cancelled context cancels the call, which is then not retried.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GrpcContextTest {

    private static final ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor();
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @AfterAll
    static void stopScheduler() {
        deadlines.shutdownNow();
    }

    private static GetItemRequest item(long sequence) {
        return GetItemRequest.newBuilder().setSequence(sequence).build();
    }

    @Test
    void aUnaryCallInAContextWithAnEarlierDeadlineUsesThatDeadline() throws Exception {
        // given a unary call whose own deadline (the request timeout) is 30 s, made in a context whose deadline is
        // 5 s away: the server sees the context's deadline
        assertThat(remainingSeenByServer(Duration.ofSeconds(30), 5, TimeUnit.SECONDS))
                .isBetween(1L, 5 * SECOND);
    }

    @Test
    void aUnaryCallInAContextWithALaterDeadlineKeepsItsOwn() throws Exception {
        // given a unary call whose own deadline is 10 s, made in a context whose deadline is two minutes away: the
        // server sees the call's own
        assertThat(remainingSeenByServer(Duration.ofSeconds(10), 2, TimeUnit.MINUTES))
                .isBetween(1L, 10 * SECOND);
    }

    /**
     * Makes one unary call with {@code requestTimeout} in a context whose deadline is {@code contextDeadline} away,
     * and returns the time left that the server saw on the call.
     */
    private static long remainingSeenByServer(Duration requestTimeout, long contextDeadline, TimeUnit unit)
            throws Exception {
        ContextRecordingService service = new ContextRecordingService();
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(
                            server.channel(), ItemServiceGrpc.getGetItemMethod())
                    .resilience(ResilienceOptions.builder()
                            .requestTimeout(requestTimeout)
                            .build())
                    .build();
            Context.CancellableContext context = Context.current().withDeadlineAfter(contextDeadline, unit, deadlines);
            try {
                context.call(() -> getItem.call(item(1)));
            } finally {
                context.cancel(null);
            }
            List<ContextRecordingService.Seen> calls = service.callsOf("GetItem");
            assertThat(calls).hasSize(1);
            assertThat(calls.get(0).remainingNanos).isNotNull();
            return calls.get(0).remainingNanos;
        }
    }

    @Test
    void cancellingTheContextCancelsTheUnaryCallInFlightAndNothingIsRetried() throws Exception {
        // given a unary call that would retry even CANCELLED, made in a cancellable context, hanging at the server
        ContextRecordingService service = new ContextRecordingService();
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(
                            server.channel(), ItemServiceGrpc.getGetItemMethod())
                    .resilience(ResilienceOptions.builder()
                            .retryableCodes(Status.Code.CANCELLED, Status.Code.UNAVAILABLE)
                            .sleeper(new RecordingSleeper())
                            .build())
                    .build();
            Context.CancellableContext context = Context.current().withCancellation();
            CompletableFuture<Throwable> failure = CompletableFuture.supplyAsync(() -> {
                try {
                    context.call(() -> getItem.call(item(ContextRecordingService.HANG)));
                    return null;
                } catch (Exception e) {
                    return e;
                }
            });
            await().until(() -> service.callsOf("GetItem").size() == 1);

            // when the context is cancelled
            context.cancel(null);

            // then the server's call is cancelled, and the call fails with CANCELLED after that one attempt
            Throwable thrown = failure.get(10, TimeUnit.SECONDS);
            assertThat(thrown).isInstanceOfSatisfying(GrpcCallException.class, e -> {
                assertThat(e.status().getCode()).isEqualTo(Status.Code.CANCELLED);
                assertThat(e.attempts()).isEqualTo(1);
            });
            await().until(() -> service.callsOf("GetItem").get(0).cancelled());
            assertThat(service.callsOf("GetItem")).hasSize(1);
        }
    }

    @Test
    void aSourceOfAPipelineThatNamesTheGrpcContextUsesTheStartingThreadsDeadline() throws Exception {
        // given a pipeline reading an endless stream, naming the gRPC context, started in a context with a deadline
        ContextRecordingService service = new ContextRecordingService();
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcSource<?, Item> source = GrpcSource.builder(server.channel(), Items.STREAM, Items.request(0))
                    .build();
            Context.CancellableContext context = Context.current().withDeadlineAfter(10, TimeUnit.SECONDS, deadlines);

            // when it runs until it has had ten items
            List<Item> items;
            try {
                items = context.call(() -> Pipeline.from(source)
                        .propagate(new GrpcContextAccessor())
                        .take(10)
                        .to(Sink.toList())
                        .run()
                        .value());
            } finally {
                context.cancel(null);
            }

            // then its call carried the context's deadline
            assertThat(items).hasSize(10);
            assertThat(service.callsOf("StreamItems"))
                    .singleElement()
                    .satisfies(seen -> assertThat(seen.remainingNanos).isBetween(1L, 10 * SECOND));
        }
    }

    @Test
    void cancellingTheContextOfAPipelineThatNamesItCancelsItsSourcesCall() throws Exception {
        // given a pipeline reading an endless stream, naming the gRPC context, started in a cancellable context
        ContextRecordingService service = new ContextRecordingService();
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcSource<?, Item> source = GrpcSource.builder(server.channel(), Items.STREAM, Items.request(0))
                    .resilience(ResilienceOptions.builder()
                            .retryableCodes(Status.Code.CANCELLED)
                            .sleeper(new RecordingSleeper())
                            .build())
                    .build();
            Context.CancellableContext context = Context.current().withCancellation();
            var handle = context.call(() -> Pipeline.from(source)
                    .propagate(new GrpcContextAccessor())
                    .to(Sink.count())
                    .start());
            await().until(() -> service.callsOf("StreamItems").size() == 1);

            // when the context is cancelled
            context.cancel(null);

            // then the server's call is cancelled and the run fails with CANCELLED, not retried
            await().until(() -> service.callsOf("StreamItems").get(0).cancelled());
            CallFailures.assertRunFailsWithStatus(handle::await, Status.Code.CANCELLED);
            assertThat(service.callsOf("StreamItems")).hasSize(1);
        }
    }
}
