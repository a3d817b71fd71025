package dev.sluice.pipeline.grpc;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A server for one test, in-process or on Netty over loopback, and the channels to it; closing ends them all. */
final class TestServer implements AutoCloseable {

    enum Transport {
        IN_PROCESS,
        NETTY
    }

    private final Transport transport;
    private final List<ServerServiceDefinition> services;
    private final String name;
    private final List<ManagedChannel> channels = new ArrayList<>();
    private Server server;
    private int port;

    private TestServer(Transport transport, List<ServerServiceDefinition> services) {
        this.transport = transport;
        this.services = services;
        this.name = "sluice-test-" + System.nanoTime();
    }

    static TestServer start(Transport transport, ServerServiceDefinition... services) {
        TestServer s = new TestServer(transport, List.of(services));
        s.startServer(0);
        return s;
    }

    private void startServer(int wantedPort) {
        try {
            if (transport == Transport.IN_PROCESS) {
                InProcessServerBuilder b = InProcessServerBuilder.forName(name);
                services.forEach(b::addService);
                server = b.build().start();
            } else {
                NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", wantedPort));
                services.forEach(b::addService);
                server = b.build().start();
                port = server.getPort();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Transport transport() {
        return transport;
    }

    /** A new channel to the server (closed with it); callbacks run on the transport's threads. */
    ManagedChannel channel() {
        return channel(0);
    }

    /** A new channel; on Netty with the given HTTP/2 flow-control window (0: gRPC's default, auto-tuned). */
    ManagedChannel channel(int flowControlWindow) {
        ManagedChannel c;
        if (transport == Transport.IN_PROCESS) {
            c = InProcessChannelBuilder.forName(name).directExecutor().build();
        } else {
            NettyChannelBuilder b = NettyChannelBuilder.forAddress("127.0.0.1", port)
                    .usePlaintext()
                    .directExecutor();
            if (flowControlWindow > 0) {
                b.flowControlWindow(flowControlWindow);
            }
            c = b.build();
        }
        channels.add(c);
        return c;
    }

    /**
     * A new channel that is already connected: for tests whose deadlines are short, so that the first connection
     * of a cold JVM (Netty's classes, event loops, handshake) is not charged to the call.
     */
    ManagedChannel connectedChannel() {
        ManagedChannel c = channel();
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(30))
                .until(() -> c.getState(true) == io.grpc.ConnectivityState.READY);
        return c;
    }

    /** Stops the server at once (calls in flight fail), keeping the channels. */
    void stop() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(10, TimeUnit.SECONDS);
    }

    /** Starts the server again, on the same port for Netty. */
    void restart() {
        startServer(port);
    }

    @Override
    public void close() throws InterruptedException {
        for (ManagedChannel c : channels) {
            c.shutdownNow();
        }
        server.shutdownNow();
        for (ManagedChannel c : channels) {
            c.awaitTermination(10, TimeUnit.SECONDS);
        }
        server.awaitTermination(10, TimeUnit.SECONDS);
    }
}
