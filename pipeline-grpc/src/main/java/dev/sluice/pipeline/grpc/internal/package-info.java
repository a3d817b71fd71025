/**
 * Internals of the gRPC module: the buffer between a call's callbacks and the source's thread, the retry loop,
 * the readiness gate and the runs' gRPC context of the server side, interceptors and meters. Not an API: anything
 * here may change.
 */
package dev.sluice.pipeline.grpc.internal;
