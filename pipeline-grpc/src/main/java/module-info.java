/**
 * gRPC for Sluice pipelines: server streams read with manual flow control, pipelines served into server streams,
 * unary calls as stage functions, retries, resumes and circuit breakers, correlation IDs.
 *
 * <p>Exports its API package only; {@code dev.sluice.pipeline.grpc.internal} is not exported.
 *
 * @since 0.1
 */
module dev.sluice.pipeline.grpc {
    // Types of these modules appear in the API: Source and Pipeline; Channel, MethodDescriptor, CallOptions;
    // StreamObserver; resilience4j's CircuitBreaker and its registry.
    requires transitive dev.sluice.pipeline;
    requires transitive io.grpc;
    requires transitive io.grpc.stub;
    requires transitive io.github.resilience4j.circuitbreaker;
    requires io.github.resilience4j.core;
    // Flight-recorder events of its internals; recorded only while a JFR recording enables them.
    requires jdk.jfr;
    requires org.slf4j;
    requires static transitive org.jspecify;

    exports dev.sluice.pipeline.grpc;
}
