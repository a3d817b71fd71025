package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The server goes away mid-stream and comes back on the same port.
 *
 * <p>A killed server ({@link ServerProcess}: a JVM of its own, ended with SIGKILL) breaks its connections, which
 * its clients see as UNAVAILABLE; connections to the dead port are then refused, and grpc-java fails every new call
 * at once for its reconnect backoff (about 1 s after the first refusal, then 1.6 times longer each time). The
 * default options must read through that: a retried attempt waits for the channel to be ready, bounded by the
 * request timeout. A server that stays down fails the run after the first call plus, per retry, its backoff and the
 * request timeout.
 *
 * <p>A grpc-java server that shuts down instead resets the streams in flight (RST_STREAM CANCEL), which its clients
 * see as CANCELLED, a status they did not ask for: a job that must read through such restarts adds CANCELLED to its
 * status table.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NettyRestartTest {

    private static final int TOTAL = 30_000;
    private static final int STOP_AT = 10_000;
    private static final int UNARY_TOTAL = 2_000;
    private static final int UNARY_STOP_AT = 500;
    /** The smallest request timeout allowed, and one retry: a server that stays down fails the call after 10.1 s. */
    private static final ResilienceOptions ONE_SHORT_RETRY = ResilienceOptions.builder()
            .maxRetryAttempts(1)
            .requestTimeout(Duration.ofSeconds(10))
            .build();

    @ParameterizedTest(name = "down for {0} ms")
    @ValueSource(longs = {500, 1_500})
    void aStreamReadsThroughAKilledServerWithTheDefaultOptions(long downMillis) throws Exception {
        try (ServerProcess first = ServerProcess.launch();
                ServerProcess second = ServerProcess.launch()) {
            // given: a stream with the default options, whose sink pauses at item STOP_AT
            int port = first.listen(0);
            ManagedChannel channel = channelTo(port);
            try {
                CountDownLatch paused = new CountDownLatch(1);
                CountDownLatch killed = new CountDownLatch(1);
                InOrder inOrder = new InOrder();
                PipelineHandle<Long> run = Pipeline.from(
                                GrpcSource.builder(channel, Items.STREAM, Items.request(TOTAL, 100))
                                        .resilience(ResilienceOptions.defaults())
                                        .resumeWith(Items.RESUME_AFTER_CURSOR)
                                        .build())
                        .pipelineName("restart")
                        .to(Sink.forEach((Item item) -> {
                            if (item.getSequence() == STOP_AT) {
                                paused.countDown();
                                killed.await();
                            }
                            inOrder.accept(item);
                        }))
                        .start();
                assertThat(paused.await(30, TimeUnit.SECONDS)).isTrue();

                // when: the server is killed mid-stream, and another comes up on its port a while later
                second.awaitReady();
                first.kill();
                killed.countDown();
                stayDown(downMillis);
                second.listen(port);

                // then: every item once, in order
                PipelineResult<Long> result = run.await(Duration.ofSeconds(60));
                assertThat(inOrder.count()).isEqualTo(TOTAL);
                assertThat(result.value()).isEqualTo(TOTAL);
                assertThat((Integer) result.summary().attributes().get(GrpcSource.ATTRIBUTE_RESUMES))
                        .isGreaterThanOrEqualTo(1);
                System.out.printf(
                        "RESTART stream, down %d ms: %s calls, %s resumes%n",
                        downMillis,
                        result.summary().attributes().get(GrpcSource.ATTRIBUTE_ATTEMPTS),
                        result.summary().attributes().get(GrpcSource.ATTRIBUTE_RESUMES));
            } finally {
                close(channel);
            }
        }
    }

    @ParameterizedTest(name = "down for {0} ms")
    @ValueSource(longs = {500, 1_500})
    void unaryCallsGoThroughAKilledServerWithTheDefaultOptions(long downMillis) throws Exception {
        try (ServerProcess first = ServerProcess.launch();
                ServerProcess second = ServerProcess.launch()) {
            // given: unary calls with the default options in a pipeline whose sink pauses at item UNARY_STOP_AT
            int port = first.listen(0);
            ManagedChannel channel = channelTo(port);
            try {
                GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(channel, ItemServiceGrpc.getGetItemMethod())
                        .resilience(ResilienceOptions.defaults())
                        .build();
                CountDownLatch paused = new CountDownLatch(1);
                CountDownLatch killed = new CountDownLatch(1);
                InOrder inOrder = new InOrder();
                PipelineHandle<Long> run = Pipeline.from(Source.range(1, UNARY_TOTAL + 1))
                        .pipelineName("restart-unary")
                        .map(n -> GetItemRequest.newBuilder().setSequence(n).build())
                        .mapConcurrent(4, getItem)
                        .to(Sink.forEach((Item item) -> {
                            if (item.getSequence() == UNARY_STOP_AT) {
                                paused.countDown();
                                killed.await();
                            }
                            inOrder.accept(item);
                        }))
                        .start();
                assertThat(paused.await(30, TimeUnit.SECONDS)).isTrue();

                // when
                second.awaitReady();
                first.kill();
                killed.countDown();
                stayDown(downMillis);
                second.listen(port);

                // then: every answer once, in order
                PipelineResult<Long> result = run.await(Duration.ofSeconds(60));
                assertThat(inOrder.count()).isEqualTo(UNARY_TOTAL);
                assertThat(result.value()).isEqualTo(UNARY_TOTAL);
            } finally {
                close(channel);
            }
        }
    }

    @Test
    void aStreamWhoseServerStaysDownFailsAfterTheBackoffAndTheRequestTimeout() throws Exception {
        try (ServerProcess server = ServerProcess.launch()) {
            // given: a stream with one retry and a request timeout of 10 s, whose sink pauses at item STOP_AT
            ManagedChannel channel = channelTo(server.listen(0));
            try {
                CountDownLatch paused = new CountDownLatch(1);
                CountDownLatch killed = new CountDownLatch(1);
                PipelineHandle<Long> run = Pipeline.from(
                                GrpcSource.builder(channel, Items.STREAM, Items.request(TOTAL, 100))
                                        .resilience(ONE_SHORT_RETRY)
                                        .resumeWith(Items.RESUME_AFTER_CURSOR)
                                        .build())
                        .to(Sink.forEach((Item item) -> {
                            if (item.getSequence() == STOP_AT) {
                                paused.countDown();
                                killed.await();
                            }
                        }))
                        .start();
                assertThat(paused.await(30, TimeUnit.SECONDS)).isTrue();

                // when: the server is killed and stays down
                server.kill();
                long start = System.nanoTime();
                killed.countDown();
                Throwable thrown = catchThrowable(() -> run.await(Duration.ofSeconds(60)));
                long elapsed = System.nanoTime() - start;

                // then: the resume waited the request timeout for a connection, then the run failed
                assertThat(thrown).isInstanceOf(PipelineFailedException.class);
                GrpcCallException failure = (GrpcCallException) thrown.getCause();
                assertThat(failure.code()).isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(failure.attempts()).isEqualTo(2);
                assertThat(failure)
                        .hasMessageContaining("failed with UNAVAILABLE")
                        .hasMessageContaining("after 2 calls")
                        .hasMessageContaining("gave up after 1 retries");
                assertStaysDownBound(elapsed);
            } finally {
                close(channel);
            }
        }
    }

    @Test
    void aUnaryCallWhoseServerStaysDownFailsAfterTheBackoffAndTheRequestTimeout() throws Exception {
        try (ServerProcess server = ServerProcess.launch()) {
            // given: a unary call with one retry and a request timeout of 10 s, to a server that answered once
            ManagedChannel channel = channelTo(server.listen(0));
            try {
                GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(channel, ItemServiceGrpc.getGetItemMethod())
                        .resilience(ONE_SHORT_RETRY)
                        .build();
                GetItemRequest request =
                        GetItemRequest.newBuilder().setSequence(7).build();
                assertThat(getItem.call(request).getSequence()).isEqualTo(7);

                // when: the server is killed and stays down
                server.kill();
                long start = System.nanoTime();
                Throwable thrown = catchThrowable(() -> getItem.call(request));
                long elapsed = System.nanoTime() - start;

                // then
                assertThat(thrown).isInstanceOf(GrpcCallException.class);
                GrpcCallException failure = (GrpcCallException) thrown;
                assertThat(failure.code()).isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(failure.attempts()).isEqualTo(2);
                assertThat(failure)
                        .hasMessageContaining("failed with UNAVAILABLE")
                        .hasMessageContaining("after 2 calls")
                        .hasMessageContaining("gave up after 1 retries");
                assertStaysDownBound(elapsed);
            } finally {
                close(channel);
            }
        }
    }

    @Test
    void aStreamResumesWhenAShutDownServerComesBackAtOnce() throws Exception {
        runThroughShutdown(false);
    }

    @Test
    void aStreamResumesWhenAShutDownServerComesBackWhileAResumeWaitsForIt() throws Exception {
        runThroughShutdown(true);
    }

    /** The first call fails at once; the retry waits its backoff (100 ms), then the request timeout (10 s). */
    private static void assertStaysDownBound(long elapsedNanos) {
        assertThat(elapsedNanos).isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(10));
        assertThat(elapsedNanos).as("generous for a loaded machine").isLessThan(TimeUnit.SECONDS.toNanos(25));
    }

    private static void runThroughShutdown(boolean waitForAResume) throws Exception {
        // given: a stream whose sink pauses at item STOP_AT, with CANCELLED in its status table
        CountingItemService service = new CountingItemService();
        CountDownLatch paused = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        InOrder inOrder = new InOrder();
        try (TestServer server = TestServer.start(Transport.NETTY, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(TOTAL, 100))
                    .resilience(ResilienceOptions.builder()
                            .retryableCodes(Status.Code.UNAVAILABLE, Status.Code.INTERNAL, Status.Code.CANCELLED)
                            .build())
                    .resumeWith(Items.RESUME_AFTER_CURSOR)
                    .build();
            PipelineHandle<Long> run = Pipeline.from(source)
                    .pipelineName("restart")
                    .to(Sink.forEach((Item item) -> {
                        if (item.getSequence() == STOP_AT) {
                            paused.countDown();
                            resume.await();
                        }
                        inOrder.accept(item);
                    }))
                    .start();
            assertThat(paused.await(30, TimeUnit.SECONDS)).isTrue();

            // when: the server shuts down mid-stream, and comes back on the same port
            server.stop();
            if (waitForAResume) {
                resume.countDown();
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> attempts(run) >= 2); // a resume waits for the channel to be ready
            }
            server.restart();
            resume.countDown();

            // then: every item once, in order
            PipelineResult<Long> result = run.await(Duration.ofSeconds(60));
            assertThat(inOrder.count()).isEqualTo(TOTAL);
            assertThat(result.value()).isEqualTo(TOTAL);
            assertThat((Integer) result.summary().attributes().get(GrpcSource.ATTRIBUTE_RESUMES))
                    .isGreaterThanOrEqualTo(1);
        }
    }

    /**
     * The server stays down this long: the scenario's own clock, not a wait for something to happen (the test then
     * waits for the run itself).
     */
    private static void stayDown(long millis) throws InterruptedException {
        Thread.sleep(millis);
    }

    private static ManagedChannel channelTo(int port) {
        return NettyChannelBuilder.forAddress("127.0.0.1", port)
                .usePlaintext()
                .directExecutor()
                .build();
    }

    private static void close(ManagedChannel channel) throws InterruptedException {
        channel.shutdownNow();
        channel.awaitTermination(10, TimeUnit.SECONDS);
    }

    /** Calls the source has started so far, from the run's live attributes. */
    private static int attempts(PipelineHandle<Long> run) {
        return (Integer) run.snapshot().attributes().getOrDefault(GrpcSource.ATTRIBUTE_ATTEMPTS, 0);
    }
}
