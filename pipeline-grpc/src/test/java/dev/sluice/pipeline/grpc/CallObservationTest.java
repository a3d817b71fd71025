package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
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
 * With Micrometer's gRPC observation interceptor on the channel, each call a source or a unary stage makes is an
 * observation of its own, a child of the run's: what a tracer shows as run → calls.
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
                .filter(c -> c.getName().equals("sluice.pipeline.run"))
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
}
