package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Outcome;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.grpc.ContextRecordingService.Seen;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three servers on Netty over loopback, A → B → C. A's client calls B; B serves the call with a pipeline whose
 * source streams from C ({@link GrpcSource}) and whose stage calls C twice per item ({@link GrpcUnary}, and a plain
 * blocking stub). A's deadline, less the time spent, reaches C on all three; A's cancellation reaches C promptly; and
 * B's served pipeline ends with no thread alive.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ContextChainTest {

    private static final ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor();
    /** How long B's stage works on its first item before calling C: time spent between A and C. */
    private static final Duration WORK = Duration.ofMillis(300);

    @AfterAll
    static void stopScheduler() {
        deadlines.shutdownNow();
    }

    /** Server B: serves each call with a pipeline that reads C and calls C for each item. */
    private static final class Middle extends ItemServiceGrpc.ItemServiceImplBase {
        final AtomicReference<PipelineHandle<Long>> served = new AtomicReference<>();
        private final ManagedChannel toC;

        Middle(ManagedChannel toC) {
            this.toC = toC;
        }

        @Override
        public void streamItems(StreamItemsRequest request, StreamObserver<Item> responses) {
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(toC, ItemServiceGrpc.getGetItemMethod())
                    .resilience(ResilienceOptions.builder()
                            .requestTimeout(Duration.ofSeconds(300)) // its own deadline, far beyond A's
                            .build())
                    .build();
            ItemServiceGrpc.ItemServiceBlockingStub plainStub = ItemServiceGrpc.newBlockingStub(toC);
            Pipeline<Item> pipeline = Pipeline.from(GrpcSource.builder(toC, Items.STREAM, Items.request(0))
                            .build())
                    .map(item -> {
                        if (item.getSequence() == 1) {
                            Thread.sleep(WORK.toMillis()); // the stage's own work, before its calls
                        }
                        GetItemRequest get = GetItemRequest.newBuilder()
                                .setSequence(item.getSequence())
                                .build();
                        getItem.call(get);
                        plainStub.getItem(get);
                        return item;
                    });
            served.set(ServerStreams.serve(pipeline, responses));
        }
    }

    private record Chain(TestServer b, TestServer c, ContextRecordingService atC, Middle atB) implements AutoCloseable {
        static Chain start() {
            ContextRecordingService atC = new ContextRecordingService();
            TestServer c = TestServer.start(Transport.NETTY, atC.bindService());
            Middle atB = new Middle(c.connectedChannel());
            TestServer b = TestServer.start(Transport.NETTY, atB.bindService());
            return new Chain(b, c, atC, atB);
        }

        /** A's client: a blocking stub to B on a connected channel. */
        ItemServiceGrpc.ItemServiceBlockingStub clientOfB() {
            return ItemServiceGrpc.newBlockingStub(b.connectedChannel());
        }

        @Override
        public void close() throws Exception {
            b.close();
            c.close();
        }
    }

    @Test
    void aDeadlineSetAtAReachesEveryCallFromBsStagesLessTheTimeSpent() throws Exception {
        try (Chain chain = Chain.start()) {
            // given A's client with a deadline 60 s away (generous: a starved machine must not reach it)
            ItemServiceGrpc.ItemServiceBlockingStub a = chain.clientOfB();
            Context.CancellableContext call = Context.current().withCancellation();
            long startedNanos = System.nanoTime();
            long deadlineNanos = startedNanos + TimeUnit.SECONDS.toNanos(60);
            try {
                // when it reads a few items through B, which reads them from C and calls C for each
                call.run(() -> {
                    Iterator<Item> items =
                            a.withDeadlineAfter(60, TimeUnit.SECONDS).streamItems(Items.request(0));
                    for (int i = 0; i < 3; i++) {
                        items.next();
                    }
                });
            } finally {
                call.cancel(null);
            }

            // then every call C received carries A's deadline less the time spent on the way. Each hop sends what is
            // left as a relative timeout, so C's deadline is never earlier than A's; the time a hop's headers wait to
            // be
            // sent and handled (ms, or seconds on a starved machine) can only make it later. What C has left is at most
            // what A gave less what B's stage spent before calling: neither the call's own deadline (300 s) nor none.
            List<Seen> atC = chain.atC.calls;
            assertThat(atC).extracting(s -> s.method).contains("StreamItems", "GetItem");
            assertThat(chain.atC.callsOf("GetItem")).hasSizeGreaterThanOrEqualTo(6); // GrpcUnary's and the stub's
            long slack = TimeUnit.MILLISECONDS.toNanos(5);
            for (Seen seen : atC) {
                long offset = seen.deadlineNanos() - deadlineNanos;
                System.out.printf("%s at C: deadline %.3f ms after A's%n", seen.method, offset / 1e6);
                assertThat(offset)
                        .as("%s's deadline against A's, in ns", seen.method)
                        .isGreaterThan(-slack);
                long budget = TimeUnit.SECONDS.toNanos(60) - (seen.method.equals("GetItem") ? WORK.toNanos() : 0);
                assertThat(seen.remainingNanos)
                        .as("what %s had left at C, in ns", seen.method)
                        .isLessThanOrEqualTo(budget + slack);
            }
        }
    }

    @RepeatedTest(5)
    void cancellingAtACancelsTheCallsAtCPromptlyAndBsPipelineEndsWithNoThreadAlive() throws Exception {
        try (Chain chain = Chain.start()) {
            // given A's client reading through B, which streams from C and calls C for each item
            ItemServiceGrpc.ItemServiceBlockingStub a = chain.clientOfB();
            Context.CancellableContext call = Context.current().withCancellation();
            call.run(() -> {
                Iterator<Item> items = a.streamItems(Items.request(0));
                for (int i = 0; i < 3; i++) {
                    items.next();
                }
            });
            Seen stream = chain.atC.callsOf("StreamItems").get(0);
            assertThat(stream.cancelled()).isFalse();

            // when A's client cancels
            long cancelledNanos = System.nanoTime();
            call.cancel(null);

            // then C's stream is cancelled within a second
            await().atMost(Duration.ofSeconds(1)).until(stream::cancelled);
            double millis = (stream.cancelledNanos.get() - cancelledNanos) / 1e6;
            System.out.printf("A's cancel reached C's stream in %.3f ms%n", millis);
            assertThat(millis).isLessThan(1_000.0);
            // and every call C had from B has ended
            await().atMost(Duration.ofSeconds(1))
                    .until(() -> chain.atC.calls.stream().allMatch(s -> s.cancelled()));
            // and B's served pipeline ended, cancelled, with no thread of it alive
            PipelineHandle<Long> served = chain.atB.served.get();
            await().atMost(Duration.ofSeconds(5)).until(served::isDone);
            assertThat(outcomeOf(served)).isEqualTo(Outcome.CANCELLED);
        }
    }

    private static Outcome outcomeOf(PipelineHandle<Long> handle) throws InterruptedException {
        try {
            return handle.await().summary().outcome();
        } catch (dev.sluice.pipeline.PipelineCancelledException e) {
            return e.summary().outcome();
        } catch (dev.sluice.pipeline.PipelineFailedException e) {
            return e.summary().outcome();
        }
    }
}
