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
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A stalled sink holds the server's producer back, and the distance it can run ahead is bounded by the buffers
 * along the way. The producer checks {@code produced - consumed} at every item it creates, so the bound is
 * asserted over the whole run, not sampled.
 *
 * <h2>The bound, link by link (items the producer can have made beyond those the sink has started)</h2>
 * <ul>
 *   <li>client sink: the group it took from its input, at most min(64, LINK) = LINK;</li>
 *   <li>client link from the source to the sink: LINK;</li>
 *   <li>gRPC source: received but not yet emitted ≤ PREFETCH (it requests only what it emitted);</li>
 *   <li>transport: in-process, none (the server is ready only while the client has requested); on Netty with
 *       window W, bytes unread by the client ≤ W, plus bytes queued in the server stream below the 32 KiB
 *       ready threshold, plus one message on each side of those: (W + 32 KiB) / message size + 2;</li>
 *   <li>server writer: its group, ≤ min(64, SERVER_LINK); server link: SERVER_LINK;</li>
 *   <li>producer: the item it counted and is emitting, 1; and 1 for the writer's readiness check racing a
 *       request.</li>
 * </ul>
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BackpressureTest {

    private static final int PREFETCH = 32;
    private static final int LINK = 16;
    private static final int TOTAL = 20_000;
    private static final int STALL_AT = 1_000;
    private static final int PAYLOAD = 1_024;
    private static final int NETTY_WINDOW = 64 * 1024;
    private static final int READY_THRESHOLD = 32 * 1024;
    /** Each message on the wire: the payload, its tags and lengths, the sequence and cursor, the 5-byte frame. */
    private static final int MIN_MESSAGE_BYTES = PAYLOAD + 5;

    private static final long PIPELINE_BOUND =
            LINK + LINK + PREFETCH + CountingItemService.SERVER_LINK + CountingItemService.SERVER_LINK + 1 + 1;

    @Test
    void inProcessTheProducerStaysWithinPrefetchPlusBuffers() throws Exception {
        long observed = runWithStalledSink(Transport.IN_PROCESS, 0, PIPELINE_BOUND);
        System.out.printf(
                "BACKPRESSURE IN_PROCESS: producer ran %d items ahead of the stalled sink (bound %d)%n",
                observed, PIPELINE_BOUND);
    }

    @Test
    void onNettyWithASmallWindowTheProducerStaysWithinTheWindowPlusBuffers() throws Exception {
        long transport = (NETTY_WINDOW + READY_THRESHOLD) / MIN_MESSAGE_BYTES + 2;
        long bound = PIPELINE_BOUND + transport;
        long observed = runWithStalledSink(Transport.NETTY, NETTY_WINDOW, bound);
        System.out.printf(
                "BACKPRESSURE NETTY (window %d B, %d B messages): producer ran %d items ahead of the"
                        + " stalled sink (bound %d)%n",
                NETTY_WINDOW, MIN_MESSAGE_BYTES, observed, bound);
    }

    private static long runWithStalledSink(Transport transport, int window, long bound) throws Exception {
        // given
        CountingItemService service = new CountingItemService();
        AtomicLong consumed = new AtomicLong();
        service.consumed = consumed::get;
        CountDownLatch release = new CountDownLatch(1);
        InOrder inOrder = new InOrder();
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(window), Items.STREAM, Items.request(TOTAL, PAYLOAD))
                    .prefetch(PREFETCH)
                    .replenishBatch(PREFETCH / 2)
                    .build();
            PipelineHandle<Long> run = Pipeline.from(source)
                    .buffer(LINK)
                    .to(Sink.forEach((Item item) -> {
                        consumed.incrementAndGet();
                        if (item.getSequence() == STALL_AT) {
                            release.await();
                        }
                        inOrder.accept(item);
                    }))
                    .start();

            // when: the sink stalls
            await().atMost(Duration.ofSeconds(30)).until(() -> consumed.get() == STALL_AT);

            // then: the producer stops, within the bound
            AtRest.awaitAtRest(service.produced);
            long ahead = service.produced.get() - consumed.get();
            assertThat(service.produced.get()).isLessThan(TOTAL);
            assertThat(service.maxAhead.get())
                    .as("items produced beyond those consumed")
                    .isLessThanOrEqualTo(bound);

            // and when the sink goes on, so does the producer, to the end
            release.countDown();
            PipelineResult<Long> result = run.await(Duration.ofSeconds(60));
            assertThat(result.value()).isEqualTo(TOTAL);
            assertThat(inOrder.count()).isEqualTo(TOTAL);
            assertThat(service.produced.get()).isEqualTo(TOTAL);
            assertThat(service.maxAhead.get())
                    .as("items produced beyond those consumed")
                    .isLessThanOrEqualTo(bound);
            return ahead;
        }
    }
}
