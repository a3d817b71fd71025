package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.MethodDescriptor;
import io.grpc.stub.StreamObserver;
import io.micrometer.context.ContextRegistry;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.MDC;

/** The examples of docs/context.md, run: each snippet there appears here token for token. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ContextDocExamplesTest {

    static final ThreadLocal<String> TENANT = new ThreadLocal<>();

    @Test
    void theMdcAndAUsersThreadLocalReachEveryStage() throws Exception {
        try {
            // docs/context.md: your own context
            ContextRegistry.getInstance()
                    .registerThreadLocalAccessor("tenant", TENANT::get, TENANT::set, TENANT::remove);

            TENANT.set("acme");
            MDC.put("tenant", "acme");
            List<String> seen = Pipeline.from(Source.of(1, 2, 3))
                    .map(x -> TENANT.get() + "/" + MDC.get("tenant")) // on the stage's own thread
                    .to(Sink.toList())
                    .run()
                    .value();

            assertThat(seen).containsOnly("acme/acme");
        } finally {
            ContextRegistry.getInstance().removeThreadLocalAccessor("tenant");
            TENANT.remove();
            MDC.clear();
        }
    }

    @Test
    void propagationCanBeTurnedOffPerPipeline() throws Exception {
        MDC.put("tenant", "acme");
        try {
            List<String> seen = Pipeline.from(Source.of(1, 2, 3))
                    .propagateContext(false) // only the run's own MDC keys
                    .map(x -> String.valueOf(MDC.get("tenant")))
                    .to(Sink.toList())
                    .run()
                    .value();

            assertThat(seen).containsOnly("null");
        } finally {
            MDC.clear();
        }
    }

    /** A service whose handler serves a pipeline that calls another service from its stages. */
    static final class Enricher extends ItemServiceGrpc.ItemServiceImplBase {
        private final Channel downstream;

        Enricher(Channel downstream) {
            this.downstream = downstream;
        }

        @Override
        public void streamItems(StreamItemsRequest request, StreamObserver<Item> responses) {
            ItemServiceGrpc.ItemServiceBlockingStub items = ItemServiceGrpc.newBlockingStub(downstream);
            ServerStreams.serve(
                    Pipeline.from(Source.range(1, request.getCount() + 1))
                            // this call carries the deadline of the call being served, and is cancelled with it
                            .map(n -> items.getItem(
                                    GetItemRequest.newBuilder().setSequence(n).build())),
                    responses);
        }
    }

    @Test
    void aServedPipelinesCallsCarryTheServedCallsDeadline() throws Exception {
        ContextRecordingService downstreamService = new ContextRecordingService();
        try (TestServer downstream = TestServer.start(Transport.IN_PROCESS, downstreamService.bindService());
                TestServer enricher =
                        TestServer.start(Transport.IN_PROCESS, new Enricher(downstream.channel()).bindService())) {
            List<Item> items = new java.util.ArrayList<>();
            ItemServiceGrpc.newBlockingStub(enricher.channel())
                    .withDeadlineAfter(30, TimeUnit.SECONDS)
                    .streamItems(Items.request(3))
                    .forEachRemaining(items::add);

            assertThat(items).hasSize(3);
            assertThat(downstreamService.callsOf("GetItem"))
                    .hasSize(3)
                    .allSatisfy(call -> assertThat(call.remainingNanos).isBetween(1L, TimeUnit.SECONDS.toNanos(30)));
        }
    }

    /** A plain pipeline that names gRPC's context: run by code that holds a deadline. */
    static <Req, Resp> List<Resp> readWithinCallersDeadline(
            Channel channel, MethodDescriptor<Req, Resp> method, Req request) throws InterruptedException {
        return Pipeline.from(GrpcSource.builder(channel, method, request).build())
                .propagate(new GrpcContextAccessor()) // the source's call carries the caller's deadline
                .to(Sink.toList())
                .run()
                .value();
    }

    @Test
    void aPipelineThatNamesGrpcsContextCarriesTheCallersDeadline() throws Exception {
        ContextRecordingService service = new ContextRecordingService();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            Context.CancellableContext withDeadline = Context.current().withDeadlineAfter(20, TimeUnit.SECONDS, timer);
            CompletableFuture<Integer> read = new CompletableFuture<>();
            Thread.ofVirtual().start(withDeadline.wrap(() -> {
                try {
                    read.complete(readWithinCallersDeadline(server.channel(), Items.STREAM, Items.request(0))
                            .size());
                } catch (Throwable t) {
                    read.completeExceptionally(t);
                }
            }));
            try {
                await().until(() -> service.callsOf("StreamItems").size() == 1);
                assertThat(service.callsOf("StreamItems").get(0).remainingNanos)
                        .isBetween(1L, TimeUnit.SECONDS.toNanos(20));
            } finally {
                withDeadline.cancel(null); // the stream is endless: cancelling the caller's context ends the read
                timer.shutdownNow();
            }
            assertThatThrownBy(() -> read.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
        }
    }
}
