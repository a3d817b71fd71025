package dev.sluice.pipeline.grpc.internal;

import io.grpc.Attributes;
import io.grpc.ClientStreamTracer;
import io.grpc.Metadata;

/**
 * Tells whether one call reached a connection: grpc-java creates a call's stream only on a ready transport, and
 * says so to the call's stream tracers ({@link ClientStreamTracer#streamCreated}). A call that waits for the channel
 * to be ready and ends before that never reached the target. Thread-safe: the flag is written on a transport thread
 * and read by the thread that made the call after the call has ended.
 */
final class ConnectionWatch extends ClientStreamTracer.Factory {

    private volatile boolean connected;

    @Override
    public ClientStreamTracer newClientStreamTracer(ClientStreamTracer.StreamInfo info, Metadata headers) {
        return new ClientStreamTracer() {
            @Override
            public void streamCreated(Attributes transportAttrs, Metadata headers) {
                connected = true;
            }
        };
    }

    /** Whether the call's stream was created on a ready transport. */
    boolean connected() {
        return connected;
    }
}
