package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Outcome;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineCancelledException;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.grpc.ScriptedItemService.Plan;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.Item;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CancellationTest {

    /** Generous: cancellation travels in milliseconds; this only catches a cancellation that never arrives. */
    private static final Duration PROMPTLY = Duration.ofSeconds(5);

    @ParameterizedTest
    @EnumSource(Transport.class)
    void cancellingThePipelineCancelsTheServersProducerPipeline(Transport transport) throws Exception {
        // given: an endless stream being consumed
        CountingItemService service = new CountingItemService();
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            AtomicLong consumed = new AtomicLong();
            PipelineHandle<Long> client = Pipeline.from(GrpcSource.of(server.channel(), Items.STREAM, Items.request(0)))
                    .to(Sink.forEach((Item item) -> consumed.incrementAndGet()))
                    .start();
            await().atMost(Duration.ofSeconds(10)).until(() -> consumed.get() > 1_000);

            // when
            long cancelledAt = System.nanoTime();
            client.cancel();

            // then: the client run ends cancelled, and the server's run is cancelled by its cancel handler
            assertThatThrownBy(() -> client.await(PROMPTLY))
                    .isInstanceOf(PipelineCancelledException.class)
                    .satisfies(e -> assertThat(
                                    ((PipelineCancelledException) e).summary().attributes())
                            .containsEntry(GrpcSource.ATTRIBUTE_STATUS, "CANCELLED"));
            PipelineHandle<Long> serverRun = service.lastRun();
            assertThatThrownBy(() -> serverRun.await(PROMPTLY)).isInstanceOf(PipelineCancelledException.class);
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cancelledAt);
            assertThat(serverRun.isDone()).isTrue(); // every server stage thread has ended
            assertThat(service.producersEnded.get()).isEqualTo(1);
            System.out.printf(
                    "CANCEL %s: the server's producer pipeline ended %d ms after the client cancelled%n",
                    transport, millis);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void cancellingThePipelineRunsTheServersCancelHandler(Transport transport) throws Exception {
        // given: a server that sends 10 items and then holds the call open
        ScriptedItemService service = new ScriptedItemService(call -> Plan.stallAfter(10));
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            AtomicLong consumed = new AtomicLong();
            PipelineHandle<Long> client = Pipeline.from(
                            GrpcSource.of(server.channel(), Items.STREAM, Items.request(100)))
                    .to(Sink.forEach((Item item) -> consumed.incrementAndGet()))
                    .start();
            await().atMost(Duration.ofSeconds(10)).until(() -> consumed.get() == 10);

            // when
            client.cancel();

            // then
            await().atMost(PROMPTLY).until(() -> service.cancelled.get() == 1);
            assertThatThrownBy(() -> client.await(PROMPTLY)).isInstanceOf(PipelineCancelledException.class);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aTakeThatFinishesEarlyCancelsTheCall(Transport transport) throws Exception {
        // given
        CountingItemService service = new CountingItemService();
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            // when
            PipelineResult<Long> result = Pipeline.from(GrpcSource.of(server.channel(), Items.STREAM, Items.request(0)))
                    .take(500)
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));

            // then
            assertThat(result.value()).isEqualTo(500);
            PipelineHandle<Long> serverRun = service.lastRun();
            assertThatThrownBy(() -> serverRun.await(PROMPTLY)).isInstanceOf(PipelineCancelledException.class);
            assertThat(service.producersEnded.get()).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void stoppingThePipelineCancelsTheCallAndDrains(Transport transport) throws Exception {
        // given
        CountingItemService service = new CountingItemService();
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            AtomicLong consumed = new AtomicLong();
            PipelineHandle<Long> client = Pipeline.from(GrpcSource.of(server.channel(), Items.STREAM, Items.request(0)))
                    .to(Sink.forEach((Item item) -> consumed.incrementAndGet()))
                    .start();
            await().atMost(Duration.ofSeconds(10)).until(() -> consumed.get() > 100);

            // when
            client.stop(Duration.ofSeconds(10));

            // then
            PipelineResult<Long> result = client.await(PROMPTLY);
            assertThat(result.outcome()).isEqualTo(Outcome.STOPPED);
            assertThat(result.value()).isEqualTo(consumed.get());
            assertThatThrownBy(() -> service.lastRun().await(PROMPTLY)).isInstanceOf(PipelineCancelledException.class);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aGracefulStopDeliversEveryMessageTheSourceHadReceived(Transport transport) throws Exception {
        // given a client that counts the messages reaching the source, and a slow sink
        CountingItemService service = new CountingItemService();
        AtomicLong received = new AtomicLong();
        ClientInterceptor countingMessages = new ClientInterceptor() {
            @Override
            public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
                    MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                    @Override
                    public void start(Listener<RespT> listener, Metadata headers) {
                        super.start(
                                new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                                    @Override
                                    public void onMessage(RespT message) {
                                        received.incrementAndGet();
                                        super.onMessage(message);
                                    }
                                },
                                headers);
                    }
                };
            }
        };
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            AtomicLong consumed = new AtomicLong();
            Channel channel = ClientInterceptors.intercept(server.channel(), countingMessages);
            PipelineHandle<Long> client = Pipeline.from(GrpcSource.builder(channel, Items.STREAM, Items.request(0))
                            .prefetch(64)
                            .build())
                    .buffer(4)
                    .to(Sink.forEach((Item item) -> {
                        Thread.sleep(0, 200_000); // a simulated slow sink: the source holds messages meanwhile
                        consumed.incrementAndGet();
                    }))
                    .start();
            await().atMost(Duration.ofSeconds(10)).until(() -> consumed.get() > 100);

            // when
            client.stop(Duration.ofSeconds(20));

            // then: nothing the source had received is lost on the way to the sink
            PipelineResult<Long> result = client.await(Duration.ofSeconds(30));
            assertThat(result.outcome()).isEqualTo(Outcome.STOPPED);
            assertThat(consumed.get()).isEqualTo(received.get());
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aServerThatCancelsItsStreamFailsTheClientWithCancelled(Transport transport) throws Exception {
        // given
        CountingItemService service = new CountingItemService();
        try (TestServer server = TestServer.start(transport, service.bindService())) {
            AtomicLong consumed = new AtomicLong();
            PipelineHandle<Long> client = Pipeline.from(GrpcSource.of(server.channel(), Items.STREAM, Items.request(0)))
                    .to(Sink.forEach((Item item) -> consumed.incrementAndGet()))
                    .start();
            await().atMost(Duration.ofSeconds(10)).until(() -> consumed.get() > 100);

            // when: the server side cancels its producer pipeline
            service.lastRun().cancel();

            // then
            assertThatThrownBy(() -> client.await(PROMPTLY))
                    .isInstanceOf(PipelineFailedException.class)
                    .cause()
                    .isInstanceOf(GrpcCallException.class)
                    .satisfies(e -> assertThat(((GrpcCallException) e).code()).isEqualTo(Status.Code.CANCELLED));
        }
    }
}
