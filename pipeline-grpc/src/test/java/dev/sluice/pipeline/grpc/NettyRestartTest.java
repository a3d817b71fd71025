package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The server stops mid-stream and comes back on the same port.
 *
 * <p>A grpc-java server that shuts down resets the streams in flight (RST_STREAM CANCEL), which its clients see as
 * CANCELLED, a status they did not ask for: a job that must read through server restarts adds CANCELLED to its
 * status table, as here. Calls to the dead port then fail with UNAVAILABLE. The channel's own reconnect backoff
 * (about 1 s, then growing) makes calls fail fast while it lasts, so the retry budget covers it: 6 retries waiting
 * 200, 400, 800, 1600, 2000, 2000 ms, 7 s in all.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NettyRestartTest {

    private static final int TOTAL = 30_000;
    private static final int STOP_AT = 10_000;

    private static final ResilienceOptions BUDGET = ResilienceOptions.builder()
            .maxRetryAttempts(6)
            .initialRetryDelay(Duration.ofMillis(200))
            .maxRetryDelay(Duration.ofMillis(2000))
            .retryableCodes(Status.Code.UNAVAILABLE, Status.Code.INTERNAL, Status.Code.CANCELLED)
            .build();

    @Test
    void theStreamResumesWhenTheServerComesBackAtOnce() throws Exception {
        runThroughRestart(false);
    }

    @Test
    void theStreamResumesWhenTheServerComesBackAfterAFailedResume() throws Exception {
        runThroughRestart(true);
    }

    private static void runThroughRestart(boolean waitForAFailedResume) throws Exception {
        // given: a stream whose sink pauses at item STOP_AT
        CountingItemService service = new CountingItemService();
        CountDownLatch paused = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        InOrder inOrder = new InOrder();
        try (TestServer server = TestServer.start(Transport.NETTY, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(TOTAL, 100))
                    .resilience(BUDGET)
                    .resumeWith(Items.RESUME_AFTER_CURSOR)
                    .build();
            PipelineHandle<Long> run = Pipeline.from(source)
                    .named("restart")
                    .to(Sink.forEach((Item item) -> {
                        if (item.getSequence() == STOP_AT) {
                            paused.countDown();
                            resume.await();
                        }
                        inOrder.accept(item);
                    }))
                    .start();
            assertThat(paused.await(30, TimeUnit.SECONDS)).isTrue();

            // when: the server stops mid-stream, and comes back on the same port
            server.stop();
            if (waitForAFailedResume) {
                resume.countDown();
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> attempts(run) >= 3); // a resume failed on a dead port
            }
            server.restart();
            resume.countDown();

            // then: every item once, in order
            PipelineResult<Long> result = run.await(Duration.ofSeconds(40));
            assertThat(inOrder.count()).isEqualTo(TOTAL);
            assertThat(result.value()).isEqualTo(TOTAL);
            assertThat((Integer) result.summary().attributes().get(GrpcSource.ATTRIBUTE_RESUMES))
                    .isGreaterThanOrEqualTo(1);
            System.out.printf(
                    "RESTART (%s): %s attempts, %s resumes%n",
                    waitForAFailedResume ? "after a failed resume" : "at once",
                    result.summary().attributes().get(GrpcSource.ATTRIBUTE_ATTEMPTS),
                    result.summary().attributes().get(GrpcSource.ATTRIBUTE_RESUMES));
        }
    }

    /** Calls the source has started so far, from the run's live attributes. */
    private static int attempts(PipelineHandle<Long> run) {
        return (Integer) run.snapshot().attributes().getOrDefault(GrpcSource.ATTRIBUTE_ATTEMPTS, 0);
    }
}
