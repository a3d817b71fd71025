package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import io.grpc.CallOptions;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GrpcSourceTest {

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aMillionSmallMessagesArriveAllInOrder(Transport transport) throws Exception {
        // given
        CountingItemService service = new CountingItemService();
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source =
                    GrpcSource.of(server.channel(), Items.STREAM, Items.request(1_000_000));
            InOrder inOrder = new InOrder();

            // when
            long start = System.nanoTime();
            PipelineResult<Long> result = Pipeline.from(source)
                    .pipelineName("million-" + transport)
                    .to(Sink.forEach(inOrder))
                    .run(Duration.ofSeconds(100));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            // then
            assertThat(result.value()).isEqualTo(1_000_000L);
            assertThat(inOrder.count()).isEqualTo(1_000_000L);
            System.out.printf(
                    "THROUGHPUT %s: 1,000,000 messages in %d ms = %.0f messages/s%n",
                    transport, millis, 1_000_000 * 1000.0 / Math.max(1, millis));
        }
    }

    @Test
    void theBatchTimerThreadRunsWhileASourceRunsAndEndsWithTheLastOne() throws Exception {
        CountingItemService service = new CountingItemService();
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            for (int run = 1; run <= 2; run++) {
                // given: a source with the default maxBatchDelay, whose long waits the shared timer ends
                AtomicBoolean timerRanDuringTheRun = new AtomicBoolean();

                // when
                runNotingTheTimer(
                        GrpcSource.of(server.channel(), Items.STREAM, Items.request(1_000)), timerRanDuringTheRun);

                // then: the thread ran while the source did, and is gone once the timer's grace after the run has
                // passed; a new run starts it again
                assertThat(timerRanDuringTheRun)
                        .as("timer thread during run %d", run)
                        .isTrue();
                await().atMost(Duration.ofSeconds(10)).until(() -> !batchTimerRuns());
            }
        }
    }

    @Test
    void aSourceThatNeverWaitsForABatchStartsNoTimerThread() throws Exception {
        CountingItemService service = new CountingItemService();
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            // given: no source holds the timer, and one that wakes for every message
            await().atMost(Duration.ofSeconds(10)).until(() -> !batchTimerRuns());
            AtomicBoolean timerRanDuringTheRun = new AtomicBoolean();
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(1_000))
                    .maxBatchDelay(Duration.ZERO)
                    .build();

            // when
            PipelineResult<Long> result = runNotingTheTimer(source, timerRanDuringTheRun);

            // then
            assertThat(result.value()).isEqualTo(1_000L);
            assertThat(timerRanDuringTheRun).isFalse();
        }
    }

    /** Runs {@code source} to the end, noting whether the batch timer's thread ran when the first item came. */
    private static PipelineResult<Long> runNotingTheTimer(
            GrpcSource<StreamItemsRequest, Item> source, AtomicBoolean timerRan) throws InterruptedException {
        return Pipeline.from(source)
                .map(item -> {
                    if (item.getSequence() == 1) {
                        timerRan.set(batchTimerRuns());
                    }
                    return item;
                })
                .to(Sink.count())
                .run(Duration.ofSeconds(30));
    }

    /** Whether the shared batch timer's thread is alive (the README names it). */
    private static boolean batchTimerRuns() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("sluice-grpc-batch-timer") && t.isAlive());
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void summaryRecordsMethodFinalStatusAndAttempts(Transport transport) throws Exception {
        // given
        CountingItemService service = new CountingItemService();
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source =
                    GrpcSource.of(server.channel(), Items.STREAM, Items.request(100));

            // when
            PipelineResult<Long> result = Pipeline.from(source).to(Sink.count()).run(Duration.ofSeconds(30));

            // then
            assertThat(result.summary().attributes())
                    .containsEntry(GrpcSource.ATTRIBUTE_METHOD, "sluice.items.v1.ItemService/StreamItems")
                    .containsEntry(GrpcSource.ATTRIBUTE_STATUS, "OK")
                    .containsEntry(GrpcSource.ATTRIBUTE_ATTEMPTS, 1)
                    .containsEntry(GrpcSource.ATTRIBUTE_RESUMES, 0);
        }
    }

    @Test
    void requestsExactlyWhatItConsumedInBatches() throws Exception {
        // given: prefetch 256, batch 100, 10,000 items
        CountingItemService service = new CountingItemService();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(10_000))
                    .prefetch(256)
                    .replenishBatch(100)
                    .build();

            // when
            Pipeline.from(source)
                    .pipelineName("metered")
                    .meterRegistry(registry)
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));

            // then: the initial 256, then 100 after each 100 consumed: 256 + 100 × 100
            assertThat(registry.get("sluice.grpc.received")
                            .tag("pipeline", "metered")
                            .tag("stage", "source")
                            .tag("method", Items.STREAM.getFullMethodName())
                            .functionCounter()
                            .count())
                    .isEqualTo(10_000.0);
            assertThat(registry.get("sluice.grpc.requested")
                            .tag("pipeline", "metered")
                            .functionCounter()
                            .count())
                    .isEqualTo(256.0 + 100 * 100);
        }
    }

    @Test
    void theMetersLiveUnderSluiceWithLowCardinalityTagsAndNoBaseUnit() throws Exception {
        // given
        CountingItemService service = new CountingItemService();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            // when
            Pipeline.from(GrpcSource.of(server.channel(), Items.STREAM, Items.request(100)))
                    .pipelineName("named")
                    .meterRegistry(registry)
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));
        }

        // then: four counters, tagged by pipeline, stage and method only, with no unit to turn into a suffix
        List<Meter.Id> grpc = registry.getMeters().stream()
                .map(Meter::getId)
                .filter(id -> id.getName().contains("grpc"))
                .toList();
        assertThat(grpc)
                .extracting(Meter.Id::getName)
                .containsExactlyInAnyOrder(
                        "sluice.grpc.requested", "sluice.grpc.received", "sluice.grpc.retries", "sluice.grpc.resumes");
        assertThat(grpc).allSatisfy(id -> {
            assertThat(id.getBaseUnit()).isNull();
            assertThat(id.getTags()).extracting(Tag::getKey).containsExactlyInAnyOrder("pipeline", "stage", "method");
        });
        assertThat(registry.scrape())
                .contains(
                        "sluice_grpc_requested_total{",
                        "sluice_grpc_received_total{",
                        "sluice_grpc_retries_total{",
                        "sluice_grpc_resumes_total{")
                .doesNotContain("pipeline_grpc");
    }

    @Test
    void metersOfConcurrentRunsOfOnePipelineAddUp() throws Exception {
        // given
        CountingItemService service = new CountingItemService();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            var pipeline = Pipeline.from(GrpcSource.of(server.channel(), Items.STREAM, Items.request(1_000)))
                    .pipelineName("twice")
                    .meterRegistry(registry)
                    .to(Sink.count());

            // when
            var first = pipeline.start();
            var second = pipeline.start();
            first.await(Duration.ofSeconds(30));
            second.await(Duration.ofSeconds(30));

            // then
            assertThat(registry.get("sluice.grpc.received")
                            .tag("pipeline", "twice")
                            .functionCounter()
                            .count())
                    .isEqualTo(2_000.0);
        }
    }

    @Test
    void headersAndCallOptionsPassThrough() throws Exception {
        // given: a server interceptor that records a header and the call's authority-independent compression
        Metadata.Key<String> tenant = Metadata.Key.of("x-tenant", Metadata.ASCII_STRING_MARSHALLER);
        List<String> seen = new CopyOnWriteArrayList<>();
        List<String> encodings = new CopyOnWriteArrayList<>();
        ServerInterceptor recorder = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(
                    ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                seen.add(headers.get(tenant));
                encodings.add(String.valueOf(
                        headers.get(Metadata.Key.of("grpc-encoding", Metadata.ASCII_STRING_MARSHALLER))));
                return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {}, headers);
            }
        };
        CountingItemService service = new CountingItemService();
        try (TestServer server =
                TestServer.start(Transport.IN_PROCESS, ServerInterceptors.intercept(service.bindService(), recorder))) {
            Metadata headers = new Metadata();
            headers.put(tenant, "acme");
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(10))
                    .headers(headers)
                    .callOptions(CallOptions.DEFAULT.withCompression("gzip"))
                    .build();

            // when
            long n = Pipeline.from(source)
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30))
                    .value();

            // then
            assertThat(n).isEqualTo(10);
            assertThat(seen).containsExactly("acme");
            assertThat(encodings).containsExactly("gzip");
        }
    }

    /**
     * A stream in lock-step (the server sends the next message only once the sink has the last) is quiet: each
     * message goes downstream at once, never held for the batch delay (1 s here).
     */
    @ParameterizedTest
    @EnumSource(Transport.class)
    void aLockStepStreamIsNeverHeldForTheBatchDelay(Transport transport) throws Exception {
        int n = 30;
        BlockingQueue<Long> acks = new LinkedBlockingQueue<>();
        LambdaItemService service =
                new LambdaItemService((request, responses) -> Thread.ofVirtual().start(() -> {
                    try {
                        for (long i = 1; i <= n; i++) {
                            responses.onNext(Items.item(i, Items.payload(8)));
                            if (acks.poll(20, TimeUnit.SECONDS) == null) {
                                throw new IllegalStateException("no acknowledgement of item " + i);
                            }
                        }
                        responses.onCompleted();
                    } catch (Exception e) {
                        responses.onError(e);
                    }
                }));
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(n))
                    .maxBatchDelay(GrpcSource.MAX_BATCH_DELAY_LIMIT)
                    .build();
            List<Long> received = new CopyOnWriteArrayList<>();

            long started = System.nanoTime();
            Pipeline.from(source)
                    .to(Sink.forEach((Item item) -> {
                        received.add(item.getSequence());
                        acks.add(item.getSequence());
                    }))
                    .run(Duration.ofSeconds(25));

            assertThat(Items.firstOutOfSequence(received, n)).isEqualTo(-1);
            // Never more than one message in flight, so never a wait for a group: held for the 1 s delay, even
            // five of the thirty would take longer than this.
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
        }
    }

    /** With no batch delay a fast stream still arrives whole and in order (the buffer only ever wakes per message). */
    @ParameterizedTest
    @EnumSource(Transport.class)
    void withNoBatchDelayAFastStreamArrivesWholeAndInOrder(Transport transport) throws Exception {
        try (TestServer server = TestServer.start(transport, new CountingItemService().bindService())) {
            GrpcSource<StreamItemsRequest, Item> source = GrpcSource.builder(
                            server.channel(), Items.STREAM, Items.request(100_000))
                    .maxBatchDelay(Duration.ZERO)
                    .build();
            List<Long> received = new ArrayList<>();

            Pipeline.from(source)
                    .to(Sink.forEach((Item item) -> received.add(item.getSequence())))
                    .run(Duration.ofSeconds(60));

            // run() returned after the sink's thread ended: its writes are visible here.
            assertThat(Items.firstOutOfSequence(received, 100_000)).isEqualTo(-1);
        }
    }

    @Test
    void badArgumentsAreRefusedWithTheirNameValueAndRule() throws Exception {
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, new CountingItemService().bindService())) {
            var channel = server.channel();
            assertThatThrownBy(() -> GrpcSource.builder(channel, Items.STREAM, Items.request(1))
                            .prefetch(0))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("prefetch must be at least 1, got 0");
            assertThatThrownBy(() -> GrpcSource.builder(channel, Items.STREAM, Items.request(1))
                            .replenishBatch(0))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("replenishBatch must be at least 1, got 0");
            assertThatThrownBy(() -> GrpcSource.builder(channel, Items.STREAM, Items.request(1))
                            .prefetch(8)
                            .replenishBatch(9)
                            .build())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("replenishBatch must not exceed prefetch (8), got 9");
            assertThatThrownBy(() -> GrpcSource.builder(channel, Items.STREAM, Items.request(1))
                            .maxBatchDelay(null))
                    .isInstanceOf(NullPointerException.class)
                    .hasMessage("maxBatchDelay must not be null");
            assertThatThrownBy(() -> GrpcSource.builder(channel, Items.STREAM, Items.request(1))
                            .maxBatchDelay(Duration.ofNanos(-1)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("maxBatchDelay must be between PT0S and PT1S, got PT-0.000000001S");
            assertThatThrownBy(() -> GrpcSource.builder(channel, Items.STREAM, Items.request(1))
                            .maxBatchDelay(Duration.ofMillis(1001)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("maxBatchDelay must be between PT0S and PT1S, got PT1.001S");
            assertThatThrownBy(() -> GrpcSource.builder(
                            channel,
                            ItemServiceGrpc.getGetItemMethod(),
                            dev.sluice.pipeline.proto.items.GetItemRequest.getDefaultInstance()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("method must be server-streaming, got UNARY for sluice.items.v1.ItemService/GetItem");
            assertThatThrownBy(() -> GrpcSource.builder(channel, Items.STREAM, Items.request(1))
                            .resumeWith(Items.RESUME_AFTER_CURSOR)
                            .build())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("resumeWith must come with resilience(...) (without ResilienceOptions a failed call is"
                            + " never retried, so the strategy would never be used), got a ResumeStrategy and no"
                            + " ResilienceOptions");
        }
    }
}
