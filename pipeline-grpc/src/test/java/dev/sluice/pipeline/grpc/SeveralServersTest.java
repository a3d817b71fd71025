package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.shapes.ShapeServiceGrpc;
import dev.sluice.pipeline.proto.shapes.UploadSummary;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A source, a client-streaming sink and a unary stage, each over a channel to three servers (a static list of
 * addresses, {@code round_robin}), each a JVM of its own: the server that serves a call is killed mid-run (SIGKILL),
 * the repeated or resumed call lands on another, and every item still arrives once, or is stored once in effect by
 * the idempotent servers ({@link UpsertStore}).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SeveralServersTest {

    private static final int TOTAL = 30_000;
    private static final int KILL_AT = 10_000;

    @Test
    void aResumedStreamLandsOnAnotherServerAndEveryItemArrivesOnce() throws Exception {
        try (ServerProcess a = ServerProcess.launch();
                ServerProcess b = ServerProcess.launch();
                ServerProcess c = ServerProcess.launch()) {
            // given: three servers, one channel to all of them
            Map<Integer, ServerProcess> byPort = new HashMap<>();
            List<Integer> ports = new ArrayList<>();
            for (ServerProcess p : List.of(a, b, c)) {
                int port = p.listen(0);
                byPort.put(port, p);
                ports.add(port);
            }
            List<Integer> servedBy = new CopyOnWriteArrayList<>();
            ManagedChannel channel = NettyChannelBuilder.forTarget(StaticAddresses.target(ports))
                    .defaultLoadBalancingPolicy("round_robin")
                    .usePlaintext()
                    .directExecutor()
                    .intercept(new RemotePortRecorder(servedBy))
                    .build();
            try {
                CountDownLatch paused = new CountDownLatch(1);
                CountDownLatch killed = new CountDownLatch(1);
                InOrder inOrder = new InOrder();
                PipelineHandle<Long> run = Pipeline.from(
                                GrpcSource.builder(channel, Items.STREAM, Items.request(TOTAL, 100))
                                        .resilience(ResilienceOptions.defaults())
                                        .resumeWith(Items.RESUME_AFTER_CURSOR)
                                        .build())
                        .pipelineName("several-servers")
                        .to(Sink.forEach((Item item) -> {
                            if (item.getSequence() == KILL_AT) {
                                paused.countDown();
                                killed.await();
                            }
                            inOrder.accept(item);
                        }))
                        .start();
                assertThat(paused.await(60, TimeUnit.SECONDS)).isTrue();

                // when: the server serving the stream is killed
                int victim = servedBy.get(servedBy.size() - 1);
                byPort.get(victim).kill();
                killed.countDown();

                // then: every item once, in order; the stream resumed on a server that is alive
                PipelineResult<Long> result = run.await(Duration.ofSeconds(120));
                assertThat(inOrder.count()).isEqualTo(TOTAL);
                assertThat(result.value()).isEqualTo(TOTAL);
                assertThat((Integer) result.summary().attributes().get(GrpcSource.ATTRIBUTE_RESUMES))
                        .isGreaterThanOrEqualTo(1);
                assertThat(servedBy.get(servedBy.size() - 1))
                        .isNotEqualTo(victim)
                        .isIn(ports);
                System.out.printf(
                        "SEVERAL SERVERS: calls served by ports %s, killed %d, %s calls, %s resumes%n",
                        servedBy,
                        victim,
                        result.summary().attributes().get(GrpcSource.ATTRIBUTE_ATTEMPTS),
                        result.summary().attributes().get(GrpcSource.ATTRIBUTE_RESUMES));
            } finally {
                channel.shutdownNow();
                channel.awaitTermination(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aWholeCallRetryLandsOnAnotherServerAndEveryItemIsStoredOnce() throws Exception {
        int total = 3_000;
        int perCall = 100;
        long holdAt = 1_550; // in the 16th call of 30
        try (ThreeServers servers = ThreeServers.launch()) {
            // given: every server holds the call that reaches holdAt, a sink making a call per 100 items, with retry
            for (ServerProcess p : servers.processes) {
                p.hold(holdAt);
            }
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            GrpcClientStream<Item, UploadSummary> upload = GrpcClientStream.builder(
                            servers.channel, ShapeServiceGrpc.getUploadMethod())
                    .retryWholeCalls(ResilienceOptions.defaults())
                    .build();
            PipelineHandle<List<UploadSummary>> run = Pipeline.from(items(total))
                    .pipelineName("several-servers-upload")
                    .meterRegistry(registry)
                    .to(upload.sinkPerCall(perCall))
                    .start();

            // when: the server holding that call is killed
            ServerProcess victim = servers.killTheHolder();

            // then: the run completes with every call answered; the union of the stores is exactly the input
            PipelineResult<List<UploadSummary>> result = run.await(Duration.ofSeconds(60));
            assertThat(result.value())
                    .hasSize(total / perCall)
                    .allSatisfy(summary -> assertThat(summary.getCount()).isEqualTo(perCall));
            servers.assertStoredExactly(total);
            // the dead server had stored part of the held call; that call, repeated whole, and the calls after it
            // landed on the two servers alive
            long repeatedFrom = holdAt - (holdAt - 1) % perCall;
            assertThat(victim.stored()).allMatch(id -> id < holdAt).anyMatch(id -> id >= repeatedFrom);
            servers.assertTheOthersStored(victim, repeatedFrom, total);
            assertThat(registry.get("sluice.grpc.retries").functionCounter().count())
                    .isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void aRetriedUnaryCallLandsOnAnotherServerAndEveryItemIsStoredOnce() throws Exception {
        int total = 600;
        long holdAt = 300;
        try (ThreeServers servers = ThreeServers.launch()) {
            // given: every server holds the call for holdAt; a unary stage with the default retry
            for (ServerProcess p : servers.processes) {
                p.hold(holdAt);
            }
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(
                            servers.channel, ItemServiceGrpc.getGetItemMethod())
                    .resilience(ResilienceOptions.defaults())
                    .build();
            InOrder inOrder = new InOrder();
            PipelineHandle<Long> run = Pipeline.from(Source.range(1, total + 1))
                    .pipelineName("several-servers-unary")
                    .meterRegistry(registry)
                    .map(id -> GetItemRequest.newBuilder().setSequence(id).build())
                    .map(getItem)
                    .to(Sink.forEach(inOrder::accept))
                    .start();

            // when: the server holding that call is killed
            ServerProcess victim = servers.killTheHolder();

            // then: every response once, in order; the union of the stores is exactly the input
            PipelineResult<Long> result = run.await(Duration.ofSeconds(60));
            assertThat(result.value()).isEqualTo(total);
            assertThat(inOrder.count()).isEqualTo(total);
            servers.assertStoredExactly(total);
            assertThat(victim.stored()).doesNotContain(holdAt).allMatch(id -> id < holdAt);
            servers.assertTheOthersStored(victim, holdAt, total);
            assertThat(registry.get("sluice.grpc.retries").functionCounter().count())
                    .isGreaterThanOrEqualTo(1);
        }
    }

    private static Source<Item> items(int total) {
        return Source.from(() -> LongStream.rangeClosed(1, total)
                .mapToObj(s -> Items.item(s, Items.payload(16)))
                .iterator());
    }

    /** Three server processes listening on loopback, and one round_robin channel to them all. */
    private record ThreeServers(List<ServerProcess> processes, ManagedChannel channel) implements AutoCloseable {

        static ThreeServers launch() throws Exception {
            List<ServerProcess> processes = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                processes.add(ServerProcess.launch());
            }
            List<Integer> ports = new ArrayList<>();
            for (ServerProcess p : processes) {
                ports.add(p.listen(0));
            }
            ManagedChannel channel = NettyChannelBuilder.forTarget(StaticAddresses.target(ports))
                    .defaultLoadBalancingPolicy("round_robin")
                    .usePlaintext()
                    .directExecutor()
                    .build();
            return new ThreeServers(processes, channel);
        }

        /** Waits for a server to hold a call, lifts the hold on the others, kills it, and returns it. */
        ServerProcess killTheHolder() throws Exception {
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(5))
                    .until(() -> processes.stream().anyMatch(ServerProcess::holding));
            ServerProcess holder = processes.stream()
                    .filter(ServerProcess::holding)
                    .findFirst()
                    .orElseThrow();
            for (ServerProcess p : processes) {
                if (p != holder) {
                    p.disarm();
                }
            }
            holder.kill();
            return holder;
        }

        /** The IDs the three servers stored, together, are exactly 1..total. */
        void assertStoredExactly(int total) throws IOException, InterruptedException {
            Set<Long> union = new TreeSet<>();
            for (ServerProcess p : processes) {
                union.addAll(p.stored());
            }
            assertThat(union)
                    .hasSize(total)
                    .containsExactlyElementsOf(
                            LongStream.rangeClosed(1, total).boxed().toList());
        }

        /** The two servers alive stored every ID of from..total between them, and each stored some of them. */
        void assertTheOthersStored(ServerProcess victim, long from, int total)
                throws IOException, InterruptedException {
            List<Set<Long>> others = new ArrayList<>();
            for (ServerProcess p : processes) {
                if (p != victim) {
                    others.add(p.stored());
                }
            }
            Set<Long> union = new TreeSet<>();
            others.forEach(union::addAll);
            assertThat(union)
                    .containsAll(LongStream.rangeClosed(from, total).boxed().toList());
            assertThat(others).allSatisfy(stored -> assertThat(stored).anyMatch(id -> id >= from));
        }

        @Override
        public void close() throws InterruptedException {
            channel.shutdownNow();
            channel.awaitTermination(10, TimeUnit.SECONDS);
            for (ServerProcess p : processes) {
                p.close();
            }
        }
    }

    /** Records the remote port of each call that received headers, in the order the headers came. */
    private record RemotePortRecorder(List<Integer> ports) implements ClientInterceptor {
        @Override
        public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            ClientCall<Q, R> call = next.newCall(method, options);
            return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
                @Override
                public void start(Listener<R> listener, Metadata headers) {
                    super.start(
                            new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                                @Override
                                public void onHeaders(Metadata responseHeaders) {
                                    SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
                                    if (remote instanceof InetSocketAddress inet) {
                                        ports.add(inet.getPort());
                                    }
                                    super.onHeaders(responseHeaders);
                                }
                            },
                            headers);
                }
            };
        }
    }
}
