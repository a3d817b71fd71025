package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.grpc.ServerStreams;
import dev.sluice.pipeline.proto.workflow.GetUsersOnlineStreamRequest;
import dev.sluice.pipeline.proto.workflow.User;
import dev.sluice.pipeline.proto.workflow.WorkflowServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;

/**
 * The server side of the end-to-end benchmark, shaped as the examples' demo's: a {@code WorkflowService} whose
 * {@code GetUsersOnlineStream} serves users through a Sluice pipeline ({@link ServerStreams#serve}, paced by the
 * call's flow control), resumable after a user's cursor, over Netty on loopback; and one channel to it, configured
 * as the demo's (plaintext, a 128 KiB HTTP/2 window, gRPC's default executors). Closing it ends both.
 *
 * <p>The users are built once, before measuring (the demo computes each from its index as it streams), so that the
 * server spends nothing per user but serving it, and leaves as much of the machine as it can to the client, which is
 * what is measured.
 */
final class UserStreamServer implements AutoCloseable {

    /** The demo's HTTP/2 flow-control window: it keeps what is in flight small. */
    static final int FLOW_CONTROL_WINDOW = 128 * 1024;

    private final Server server;
    private final ManagedChannel channel;

    private UserStreamServer(Server server, ManagedChannel channel) {
        this.server = server;
        this.channel = channel;
    }

    /** Starts a server that streams {@code users} and connects a channel to it, waiting until it is ready. */
    static UserStreamServer start(User[] users) {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        Server server;
        try {
            server = NettyServerBuilder.forAddress(new InetSocketAddress(loopback, 0))
                    .addService(ServerInterceptors.intercept(new Directory(users), ServerStreams.exceptionMapping()))
                    .build()
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("starting the user server failed", e);
        }
        ManagedChannel channel = NettyChannelBuilder.forAddress(loopback.getHostAddress(), server.getPort())
                .usePlaintext()
                .flowControlWindow(FLOW_CONTROL_WINDOW)
                .build();
        ItemStreamServer.awaitReadyOrShutDown(channel, server, "user server");
        return new UserStreamServer(server, channel);
    }

    /** The channel to the server, shared by every call (one channel per target). */
    ManagedChannel channel() {
        return channel;
    }

    @Override
    public void close() {
        ItemStreamServer.shutDown(channel, server);
    }

    /** Streams the users from the start, or from the one after {@code resume_after}'s cursor. */
    private static final class Directory extends WorkflowServiceGrpc.WorkflowServiceImplBase {
        private final User[] users;

        Directory(User[] users) {
            this.users = users;
        }

        @Override
        public void getUsersOnlineStream(GetUsersOnlineStreamRequest request, StreamObserver<User> responses) {
            int first = firstAfter(request.getResumeAfter());
            Source<User> source = Source.from(Arrays.asList(users).subList(first, users.length));
            ServerStreams.serve(Pipeline.from(source).pipelineName("GetUsersOnlineStream"), responses);
        }

        /** The index after a cursor (a user's index); a cursor out of range is the client's error. */
        private int firstAfter(String cursor) {
            if (cursor.isEmpty()) {
                return 0;
            }
            long last;
            try {
                last = Long.parseLong(cursor);
            } catch (NumberFormatException e) {
                last = -1;
            }
            if (last < 0 || last >= users.length) {
                throw Status.INVALID_ARGUMENT
                        .withDescription("no user with the cursor " + cursor)
                        .asRuntimeException();
            }
            return (int) last + 1;
        }
    }
}
