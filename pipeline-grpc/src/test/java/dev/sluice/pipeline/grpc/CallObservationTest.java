package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.shapes.ShapeServiceGrpc;
import dev.sluice.pipeline.proto.shapes.UploadSummary;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.micrometer.core.instrument.binder.grpc.ObservationGrpcClientInterceptor;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * With Micrometer's gRPC observation interceptor on the channel, or a builder's {@code observationRegistry}, each call
 * a source, a unary stage, a client-stream sink or a bidirectional stage makes is an observation of its own, a child
 * of the run's: what a tracer shows as run → calls.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CallObservationTest {

    @Test
    void eachCallOfASourceAndOfAUnaryStageIsAChildOfTheRunsObservation() throws Exception {
        // given a registry that keeps every observation it stops, and a channel with Micrometer's interceptor
        ObservationRegistry registry = ObservationRegistry.create();
        List<Observation.Context> stopped = new CopyOnWriteArrayList<>();
        registry.observationConfig().observationHandler(new ObservationHandler<>() {
            @Override
            public void onStop(Observation.Context context) {
                stopped.add(context);
            }

            @Override
            public boolean supportsContext(Observation.Context context) {
                return true;
            }
        });
        ContextRecordingService service = new ContextRecordingService();
        try (TestServer server = TestServer.start(Transport.IN_PROCESS, service.bindService())) {
            Channel observed =
                    ClientInterceptors.intercept(server.channel(), new ObservationGrpcClientInterceptor(registry));
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(observed, ItemServiceGrpc.getGetItemMethod())
                    .build();

            // when an observed pipeline reads a stream and makes a unary call per item
            Pipeline.from(GrpcSource.builder(observed, Items.STREAM, Items.request(0))
                            .build())
                    .observationRegistry(registry)
                    .take(3)
                    .map(item -> getItem.call(GetItemRequest.newBuilder()
                            .setSequence(item.getSequence())
                            .build()))
                    .to(Sink.count())
                    .run();
        }

        // then the run is one observation, and every call (the stream's and the three unary ones) its child
        Observation.Context run = stopped.stream()
                .filter(c -> c.getName().equals("sluice.pipeline"))
                .findFirst()
                .orElseThrow();
        List<Observation.Context> calls =
                stopped.stream().filter(c -> c.getName().equals("grpc.client")).toList();
        assertThat(calls).hasSize(4);
        assertThat(calls).allSatisfy(call -> {
            assertThat(call.getParentObservation()).isNotNull();
            assertThat(call.getParentObservation().getContextView()).isSameAs(run);
        });
    }

    @Test
    void theClientStreamAndBidiBuildersObserveTheirCallsAsChildrenOfTheRunWithTheirOwnOption() throws Exception {
        // given a registry that keeps every observation it stops, and builders given it (the channel is plain)
        ObservationRegistry registry = ObservationRegistry.create();
        List<Observation.Context> stopped = new CopyOnWriteArrayList<>();
        registry.observationConfig().observationHandler(new ObservationHandler<>() {
            @Override
            public void onStop(Observation.Context context) {
                stopped.add(context);
            }

            @Override
            public boolean supportsContext(Observation.Context context) {
                return true;
            }
        });
        try (ShapeServers servers = ShapeServers.start(Transport.IN_PROCESS, new PlainShapeService().bindService())) {
            GrpcBidiStream<Item, Item> exchange = GrpcBidiStream.builder(
                            servers.channel, ShapeServiceGrpc.getExchangeMethod())
                    .observationRegistry(registry)
                    .build();
            GrpcClientStream<Item, UploadSummary> upload = GrpcClientStream.builder(
                            servers.channel, ShapeServiceGrpc.getUploadMethod())
                    .observationRegistry(registry)
                    .build();

            // when an observed run exchanges items on a bidirectional call and uploads them on a client stream
            Pipeline.from(ClientStreamTest.items(10, 8))
                    .observationRegistry(registry)
                    .via(exchange)
                    .to(upload.sink())
                    .run();
        }

        // then both calls are observations whose parent is the run's
        Observation.Context run = stopped.stream()
                .filter(c -> c.getName().equals("sluice.pipeline"))
                .findFirst()
                .orElseThrow();
        List<Observation.Context> calls =
                stopped.stream().filter(c -> c.getName().equals("grpc.client")).toList();
        assertThat(calls)
                .extracting(Observation.Context::getContextualName)
                .containsExactlyInAnyOrder(
                        ShapeServiceGrpc.getExchangeMethod().getFullMethodName(),
                        ShapeServiceGrpc.getUploadMethod().getFullMethodName());
        assertThat(calls)
                .allSatisfy(call ->
                        assertThat(call.getParentObservation().getContextView()).isSameAs(run));
    }
}
