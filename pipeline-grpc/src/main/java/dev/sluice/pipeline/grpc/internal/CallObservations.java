package dev.sluice.pipeline.grpc.internal;

import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.micrometer.core.instrument.binder.grpc.ObservationGrpcClientInterceptor;
import io.micrometer.observation.ObservationRegistry;
import org.jspecify.annotations.Nullable;

/**
 * The channel a builder's calls are made on when it has an observation registry: Micrometer's own gRPC client
 * interceptor in front of the application's channel, so each call is one {@code grpc.client} observation whose parent
 * is the observation current on the thread that starts the call (in a stage, the run's). A tracer bridged to the
 * registry writes the trace context into the call's metadata when the call starts.
 */
public final class CallObservations {

    private CallObservations() {}

    /**
     * {@code channel} with Micrometer's client interceptor for {@code registry}, or {@code channel} itself without a
     * registry.
     */
    public static Channel observed(Channel channel, @Nullable ObservationRegistry registry) {
        return registry == null
                ? channel
                : ClientInterceptors.intercept(channel, new ObservationGrpcClientInterceptor(registry));
    }
}
