package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineCancelledException;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.RunnablePipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import io.grpc.Channel;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.binder.grpc.ObservationGrpcServerInterceptor;
import io.micrometer.observation.ObservationRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A run as one trace across three servers on Netty over loopback, A → B → C, with Micrometer Tracing over
 * OpenTelemetry: A's run reads a {@link GrpcSource} from B; B serves it with a pipeline whose stage calls C with a
 * {@link GrpcUnary}. Every builder and pipeline has the registry, and B and C have Micrometer's server interceptor.
 * The spans link run → call → server → run → call → server under one trace ID, and a run's span says how it ended.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TraceAcrossServersTest {

    private static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("outcome");
    private static final AttributeKey<String> PIPELINE = AttributeKey.stringKey("pipeline");
    private static final AttributeKey<String> RPC_METHOD = AttributeKey.stringKey("rpc.method");

    private final InMemoryTracing tracing = new InMemoryTracing();
    private final ObservationRegistry registry = tracing.registry;

    @AfterEach
    void closeTracer() {
        tracing.close();
    }

    /** C: answers GetItem with the item asked for, or fails it for the sequence {@code failAt}. */
    private static final class Downstream extends ItemServiceGrpc.ItemServiceImplBase {
        private final long failAt;

        Downstream(long failAt) {
            this.failAt = failAt;
        }

        @Override
        public void getItem(GetItemRequest request, StreamObserver<Item> response) {
            if (request.getSequence() == failAt) {
                response.onError(
                        Status.INTERNAL.withDescription("C fails " + failAt).asRuntimeException());
                return;
            }
            response.onNext(Item.newBuilder().setSequence(request.getSequence()).build());
            response.onCompleted();
        }
    }

    /** B: serves StreamItems with pipeline "b", which calls C for each of count items (0: without end). */
    private final class Middle extends ItemServiceGrpc.ItemServiceImplBase {
        private final GrpcUnary<GetItemRequest, Item> getItem;

        Middle(io.grpc.Channel toC) {
            // docs/context.md: unary
            getItem = GrpcUnary.builder(toC, ItemServiceGrpc.getGetItemMethod())
                    .observationRegistry(registry) // each call: a span, its trace context in the call's metadata
                    .build();
            // docs/context.md: end
        }

        @Override
        public void streamItems(StreamItemsRequest request, StreamObserver<Item> responses) {
            long end = request.getCount() == 0 ? Long.MAX_VALUE : request.getCount() + 1;
            // docs/context.md: served
            ServerStreams.serve(
                    Pipeline.from(Source.range(1, end))
                            .pipelineName("b")
                            .observationRegistry(registry) // a child of the served call's span
                            .map(n -> getItem.call(
                                    GetItemRequest.newBuilder().setSequence(n).build())),
                    responses);
            // docs/context.md: end
        }
    }

    /** B and C on Netty, each with Micrometer's server interceptor; A's source reads from B. */
    private final class Chain implements AutoCloseable {
        final TestServer c;
        final TestServer b;

        Chain(long failAtC) {
            Downstream downstream = new Downstream(failAtC);
            c = TestServer.start(
                    Transport.NETTY,
                    ServerInterceptors.intercept(
                            downstream.bindService(), new ObservationGrpcServerInterceptor(registry)));
            Middle middle = new Middle(c.connectedChannel());
            // docs/context.md: server
            ServerServiceDefinition observed =
                    ServerInterceptors.intercept(middle.bindService(), new ObservationGrpcServerInterceptor(registry));
            // docs/context.md: end
            b = TestServer.start(Transport.NETTY, observed);
        }

        /** Pipeline "a": reads {@code count} items from B. */
        Pipeline<Item> a(long count) {
            Channel channel = b.connectedChannel();
            // docs/context.md: client
            return Pipeline.from(GrpcSource.builder(channel, Items.STREAM, Items.request(count))
                            .observationRegistry(registry) // the call: a span, its trace context in its metadata
                            .build())
                    .pipelineName("a")
                    .observationRegistry(registry); // the run: a span, current in every stage
            // docs/context.md: end
        }

        @Override
        public void close() throws InterruptedException {
            b.close();
            c.close();
        }
    }

    @Test
    void aRunIsOneTraceFromItsSpanThroughBsRunToTheCallsAtC() throws Exception {
        try (Chain chain = new Chain(-1)) {
            // when A's run reads 3 items through B, whose run calls C for each
            List<Item> items = chain.a(3).to(Sink.toList()).run().value();
            assertThat(items).hasSize(3);

            // then, once every span has ended: A's run, its call, B's server span and run, 3 calls and 3 at C
            await().atMost(Duration.ofSeconds(10)).until(() -> tracing.spans().size() == 10);
            List<SpanData> spans = tracing.spans();
            assertThat(spans)
                    .extracting(SpanData::getTraceId)
                    .containsOnly(spans.get(0).getTraceId());
            SpanData runA = run("a");
            SpanData callA = single(SpanKind.CLIENT, "StreamItems");
            SpanData servedB = single(SpanKind.SERVER, "StreamItems");
            SpanData runB = run("b");
            List<SpanData> callsB = all(SpanKind.CLIENT, "GetItem");
            List<SpanData> servedC = all(SpanKind.SERVER, "GetItem");
            assertThat(runA.getParentSpanContext().isValid()).isFalse(); // the root
            assertThat(callA.getParentSpanId()).isEqualTo(runA.getSpanId());
            assertThat(servedB.getParentSpanId()).isEqualTo(callA.getSpanId()); // across the wire
            assertThat(runB.getParentSpanId()).isEqualTo(servedB.getSpanId());
            assertThat(callsB)
                    .hasSize(3)
                    .allSatisfy(call -> assertThat(call.getParentSpanId()).isEqualTo(runB.getSpanId()));
            assertThat(servedC)
                    .extracting(SpanData::getParentSpanId) // across the wire again
                    .containsExactlyInAnyOrderElementsOf(
                            callsB.stream().map(SpanData::getSpanId).toList());
            // and both runs completed, without error
            assertThat(List.of(runA, runB)).allSatisfy(run -> {
                assertThat(run.getAttributes().get(OUTCOME)).isEqualTo("completed");
                assertThat(run.getStatus().getStatusCode()).isNotEqualTo(StatusCode.ERROR);
            });
        }
    }

    @Test
    void whenCFailsBsRunAndAsRunEndFailedAndTheirSpansCarryTheError() throws Exception {
        try (Chain chain = new Chain(2)) {
            // when C fails B's second call, which fails B's run, which fails A's stream and run
            assertThatThrownBy(() -> chain.a(3).to(Sink.toList()).run()).isInstanceOf(PipelineFailedException.class);

            // then both runs' spans say failed, with the error
            await().atMost(Duration.ofSeconds(10)).until(() -> hasRun("a") && hasRun("b"));
            assertThat(List.of(run("a"), run("b"))).allSatisfy(run -> {
                assertThat(run.getAttributes().get(OUTCOME)).isEqualTo("failed");
                assertThat(run.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
                assertThat(run.getEvents()).extracting(e -> e.getName()).contains("exception");
            });
            // and still in one trace
            assertThat(tracing.spans()).extracting(SpanData::getTraceId).containsOnly(run("a").getTraceId());
        }
    }

    @Test
    void aCancelledRunsSpanSaysCancelledWithoutErrorAndSoDoesTheRunServingIt() throws Exception {
        try (Chain chain = new Chain(-1)) {
            // given A's run reading B's endless stream, its stage holding the first item
            CountDownLatch received = new CountDownLatch(1);
            CountDownLatch never = new CountDownLatch(1);
            PipelineHandle<Long> a = holding(chain.a(0), received, never).start();
            assertThat(received.await(10, TimeUnit.SECONDS)).isTrue();

            // when A's run is cancelled
            a.cancel();
            assertThatThrownBy(a::await).isInstanceOf(PipelineCancelledException.class);

            // then A's run span says cancelled, not an error; and so does B's, whose call A's cancel ended
            await().atMost(Duration.ofSeconds(10)).until(() -> hasRun("a") && hasRun("b"));
            assertThat(List.of(run("a"), run("b"))).allSatisfy(run -> {
                assertThat(run.getAttributes().get(OUTCOME)).isEqualTo("cancelled");
                assertThat(run.getStatus().getStatusCode()).isNotEqualTo(StatusCode.ERROR);
            });
        }
    }

    @Test
    void aTimedOutRunsSpanSaysTimedOutWithAnError() throws Exception {
        try (Chain chain = new Chain(-1)) {
            // when A's run, its stage holding the first item it gets from B's endless stream, passes its deadline
            CountDownLatch never = new CountDownLatch(1);
            RunnablePipeline<Long> a = holding(chain.a(0), new CountDownLatch(1), never);
            assertThatThrownBy(() -> a.run(Duration.ofMillis(300))).isInstanceOf(PipelineCancelledException.class);

            // then A's run span says timed out, with a TimeoutException as its error
            SpanData runA = run("a");
            assertThat(runA.getAttributes().get(OUTCOME)).isEqualTo("timed_out");
            assertThat(runA.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
            assertThat(runA.getEvents())
                    .extracting(e -> e.getAttributes().get(AttributeKey.stringKey("exception.type")))
                    .contains(TimeoutException.class.getName());
        }
    }

    /** {@code a} with a stage that counts down {@code received} at its first item and then waits on {@code never}. */
    private static RunnablePipeline<Long> holding(Pipeline<Item> a, CountDownLatch received, CountDownLatch never) {
        return a.map(item -> {
                    received.countDown();
                    never.await();
                    return item;
                })
                .to(Sink.count());
    }

    private boolean hasRun(String pipeline) {
        return tracing.spans().stream()
                .anyMatch(s -> pipeline.equals(s.getAttributes().get(PIPELINE)));
    }

    private SpanData run(String pipeline) {
        List<SpanData> runs = tracing.spans().stream()
                .filter(s -> pipeline.equals(s.getAttributes().get(PIPELINE)))
                .toList();
        assertThat(runs).as("spans of pipeline %s", pipeline).hasSize(1);
        return runs.get(0);
    }

    private List<SpanData> all(SpanKind kind, String method) {
        return tracing.spans().stream()
                .filter(s ->
                        s.getKind() == kind && method.equals(s.getAttributes().get(RPC_METHOD)))
                .toList();
    }

    private SpanData single(SpanKind kind, String method) {
        List<SpanData> spans = all(kind, method);
        assertThat(spans).as("%s spans of %s", kind, method).hasSize(1);
        return spans.get(0);
    }
}
