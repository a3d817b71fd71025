package dev.sluice.pipeline.benchmarks;

import com.google.protobuf.ByteString;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The server side of benchmark 6: an {@code ItemService} that streams prebuilt items as fast as the client's flow
 * control lets it, and one channel to it, on either transport. Closing it ends both.
 *
 * <p>The server is deliberately the cheapest well-behaved one: the items are built once (so the server spends nothing
 * per item but sending), and it writes while the call {@code isReady()} and resumes from its ready handler, as
 * grpc-java's manual flow control example does. It is not a Sluice pipeline ({@code ServerStreams}): the client is what
 * is measured, and a server that costs less leaves more of the two cores to it. Items are numbered 1..count; any
 * request that asks for more than were built fails with INVALID_ARGUMENT.
 *
 * <p>Both sides use {@code directExecutor()}: callbacks run on the transport's own threads (Netty's event loops, or the
 * calling thread in-process), which is what a throughput-minded user configures and what the gRPC source is built for
 * (its callbacks only buffer). The blocking stub ignores the channel's executor and delivers on its caller's thread.
 */
final class ItemStreamServer implements AutoCloseable {

    /** The transports of benchmark 6. */
    enum Transport {
        /** grpc-java's in-process transport: messages are handed over as objects, flow control counts messages. */
        IN_PROCESS,
        /** Netty over loopback TCP, plaintext HTTP/2: messages are serialised, flow control counts bytes. */
        NETTY;

        /** The transport named by a JMH parameter: {@code inProcess} or {@code netty}. */
        static Transport of(String name) {
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "inprocess", "in_process" -> IN_PROCESS;
                case "netty" -> NETTY;
                default -> throw new IllegalArgumentException("transport must be inProcess or netty, got " + name);
            };
        }
    }

    /** Bytes of filler in each item: a small message (about 30 bytes serialised with its sequence and cursor). */
    static final int PAYLOAD_SIZE = 16;

    private final Server server;
    private final ManagedChannel channel;

    private ItemStreamServer(Server server, ManagedChannel channel) {
        this.server = server;
        this.channel = channel;
    }

    /**
     * Builds {@code items} items, starts a server that streams them and connects a channel to it (waiting until the
     * channel is ready, so that no benchmark pays for the first connection).
     */
    static ItemStreamServer start(Transport transport, int items) {
        Item[] prebuilt = build(items);
        ItemService service = new ItemService(prebuilt);
        Server server;
        ManagedChannel channel;
        try {
            if (transport == Transport.IN_PROCESS) {
                String name = "sluice-bench-items-" + System.nanoTime();
                server = InProcessServerBuilder.forName(name)
                        .directExecutor()
                        .addService(service)
                        .build()
                        .start();
                channel = InProcessChannelBuilder.forName(name).directExecutor().build();
            } else {
                server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                        .directExecutor()
                        .addService(service)
                        .build()
                        .start();
                channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
                        .usePlaintext()
                        .directExecutor()
                        .build();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("starting the " + transport + " item server failed", e);
        }
        awaitReadyOrShutDown(channel, server, "item server");
        return new ItemStreamServer(server, channel);
    }

    /** The channel to the server, shared by every call (one channel per target). */
    ManagedChannel channel() {
        return channel;
    }

    /** The request for items 1..count, each with a {@value #PAYLOAD_SIZE}-byte payload. */
    static StreamItemsRequest request(long count) {
        return StreamItemsRequest.newBuilder()
                .setCount(count)
                .setPayloadSize(PAYLOAD_SIZE)
                .build();
    }

    /**
     * {@link #awaitReady}; if the channel does not become ready, shuts the channel and {@code server} down before
     * the failure is thrown, so that a failed start leaves nothing running.
     */
    static void awaitReadyOrShutDown(ManagedChannel channel, Server server, String name) {
        try {
            awaitReady(channel, name);
        } catch (RuntimeException e) {
            shutDown(channel, server);
            throw e;
        }
    }

    /** Connects {@code channel} and waits until it is ready (at most 30 s), so that no call pays for connecting. */
    static void awaitReady(ManagedChannel channel, String server) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        ConnectivityState state;
        while ((state = channel.getState(true)) != ConnectivityState.READY) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("the channel to the " + server + " is still " + state + " after 30 s");
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while connecting to the " + server, e);
            }
        }
    }

    private static Item[] build(int n) {
        ByteString payload = ByteString.copyFrom(new byte[PAYLOAD_SIZE]);
        Item[] items = new Item[n];
        for (int i = 0; i < n; i++) {
            long sequence = i + 1L;
            items[i] = Item.newBuilder()
                    .setSequence(sequence)
                    .setCursor(Long.toString(sequence))
                    .setPayload(payload)
                    .build();
        }
        return items;
    }

    @Override
    public void close() {
        shutDown(channel, server);
    }

    /**
     * Shuts a channel and its server down at once and waits up to 10 s for each to end; an interrupt ends the wait
     * and is kept.
     */
    static void shutDown(ManagedChannel channel, Server server) {
        channel.shutdownNow();
        server.shutdownNow();
        try {
            channel.awaitTermination(10, TimeUnit.SECONDS);
            server.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Streams prebuilt items 1..count under the client's flow control. */
    private static final class ItemService extends ItemServiceGrpc.ItemServiceImplBase {
        private final Item[] items;

        ItemService(Item[] items) {
            this.items = items;
        }

        @Override
        public void streamItems(StreamItemsRequest request, StreamObserver<Item> responses) {
            long count = request.getCount();
            if (count < 1
                    || count > items.length
                    || !request.getResumeAfter().isEmpty()
                    || request.getPayloadSize() != PAYLOAD_SIZE) {
                responses.onError(Status.INVALID_ARGUMENT
                        .withDescription("this server streams 1 to " + items.length + " items of " + PAYLOAD_SIZE
                                + " bytes from the start, got " + request)
                        .asRuntimeException());
                return;
            }
            ServerCallStreamObserver<Item> call = (ServerCallStreamObserver<Item>) responses;
            Writer writer = new Writer(call, items, (int) count);
            // Both handlers must be set before this method returns; gRPC calls the ready handler once the call is
            // ready, and again each time it becomes ready after isReady() returned false.
            call.setOnCancelHandler(writer::cancel);
            call.setOnReadyHandler(writer);
        }
    }

    /** Writes while the call is ready. Runs in the call's serialised callbacks only, so its fields need no guard. */
    private static final class Writer implements Runnable {
        private final ServerCallStreamObserver<Item> call;
        private final Item[] items;
        private final int count;
        private int next;
        private boolean done;

        Writer(ServerCallStreamObserver<Item> call, Item[] items, int count) {
            this.call = call;
            this.items = items;
            this.count = count;
        }

        @Override
        public void run() {
            if (done) {
                return;
            }
            while (next < count && call.isReady()) {
                call.onNext(items[next++]);
            }
            if (next == count) {
                done = true;
                call.onCompleted();
            }
        }

        void cancel() {
            done = true;
        }
    }
}
