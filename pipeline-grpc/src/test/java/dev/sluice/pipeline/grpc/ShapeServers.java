package dev.sluice.pipeline.grpc;

import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.shapes.ShapeServiceGrpc;
import dev.sluice.pipeline.proto.shapes.UploadSummary;
import io.grpc.Channel;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * A server for the call-shape tests, in-process or on Netty over loopback, with HTTP/2 windows fixed on both sides
 * (no auto-tuning) so that what the transport may hold is known; and one connected channel to it.
 */
final class ShapeServers implements AutoCloseable {

    /** The HTTP/2 flow-control window of both sides on Netty. */
    static final int NETTY_WINDOW = 64 * 1024;
    /** The bytes a grpc-java stream queues before it reports not ready. */
    static final int READY_THRESHOLD = 32 * 1024;

    final Transport transport;
    final Server server;
    final ManagedChannel channel;

    private ShapeServers(Transport transport, Server server, ManagedChannel channel) {
        this.transport = transport;
        this.server = server;
        this.channel = channel;
    }

    static ShapeServers start(Transport transport, ServerServiceDefinition... services) throws IOException {
        Server server;
        ManagedChannel channel;
        if (transport == Transport.IN_PROCESS) {
            String name = "shapes-" + System.nanoTime();
            InProcessServerBuilder builder = InProcessServerBuilder.forName(name);
            for (ServerServiceDefinition service : services) {
                builder.addService(service);
            }
            server = builder.build().start();
            channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        } else {
            NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                    .flowControlWindow(NETTY_WINDOW);
            for (ServerServiceDefinition service : services) {
                builder.addService(service);
            }
            server = builder.build().start();
            channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
                    .usePlaintext()
                    .flowControlWindow(NETTY_WINDOW)
                    .directExecutor()
                    .build();
            Awaitility.await()
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> channel.getState(true) == ConnectivityState.READY);
        }
        return new ShapeServers(transport, server, channel);
    }

    /**
     * The most messages of {@code messageBytes} (framing included) the transport can hold between a sender that
     * respects readiness and a receiver that takes nothing: in-process, those requested (grpc-java's server and
     * client stubs request one ahead) plus one in hand; on Netty the window, the ready threshold and one message on
     * each side of them.
     */
    long transportBound(int messageBytes) {
        return transport == Transport.IN_PROCESS ? 2 : (NETTY_WINDOW + READY_THRESHOLD) / messageBytes + 2;
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow();
        server.shutdownNow();
        channel.awaitTermination(10, TimeUnit.SECONDS);
        server.awaitTermination(10, TimeUnit.SECONDS);
    }

    /**
     * A plain async upload on {@code channel}: sends items 1 to {@code count} (ignoring readiness, as a naive client
     * does), half-closes, and returns the answer.
     */
    static CompletableFuture<UploadSummary> plainUpload(Channel channel, long count) {
        CompletableFuture<UploadSummary> answer = new CompletableFuture<>();
        StreamObserver<Item> requests = ShapeServiceGrpc.newStub(channel).upload(new StreamObserver<>() {
            @Override
            public void onNext(UploadSummary value) {
                answer.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
        });
        for (long i = 1; i <= count; i++) {
            requests.onNext(Item.newBuilder().setSequence(i).build());
        }
        requests.onCompleted();
        return answer;
    }
}
