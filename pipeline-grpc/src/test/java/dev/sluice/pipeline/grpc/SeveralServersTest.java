package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.proto.items.Item;
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
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A source over a channel to three servers (a static list of addresses, {@code round_robin}), each a JVM of its own:
 * the server that serves the stream is killed mid-run, the resumed call lands on another, and every item still
 * arrives once, in order.
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
