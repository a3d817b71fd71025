/**
 * gRPC for Sluice pipelines: a {@link dev.sluice.pipeline.grpc.GrpcSource} that reads a server stream with manual
 * flow control, {@link dev.sluice.pipeline.grpc.ServerStreams} that serves a pipeline into a server stream at the
 * client's pace, {@link dev.sluice.pipeline.grpc.GrpcUnary} for unary calls as stage functions, their resilience
 * ({@link dev.sluice.pipeline.grpc.ResilienceOptions}, {@link dev.sluice.pipeline.grpc.ResumeStrategy},
 * {@link dev.sluice.pipeline.grpc.GrpcCircuitBreakers}), and correlation IDs across calls
 * ({@link dev.sluice.pipeline.grpc.CorrelationIds}).
 *
 * <p>Generic over any {@code MethodDescriptor}: the module depends on no generated code. Channels are the
 * application's: one {@code ManagedChannel} per target, shared by every call; nothing here builds or closes one.
 *
 * <p>Nullness: everything here is non-null unless annotated {@code @Nullable} (JSpecify's {@code @NullMarked}).
 *
 * @since 0.1
 */
@NullMarked
package dev.sluice.pipeline.grpc;

import org.jspecify.annotations.NullMarked;
