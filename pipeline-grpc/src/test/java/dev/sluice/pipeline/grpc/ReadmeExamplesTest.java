package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.proto.workflow.GetUsersOnlineStreamRequest;
import dev.sluice.pipeline.proto.workflow.GetUsersRequest;
import dev.sluice.pipeline.proto.workflow.GetUsersResponse;
import dev.sluice.pipeline.proto.workflow.User;
import dev.sluice.pipeline.proto.workflow.WorkflowServiceGrpc;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The README's gRPC snippets, kept compiling and running against the demo's workflow service. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReadmeExamplesTest {

    // --- README: "Serving a stream" -------------------------------------------------------------------------
    static final class WorkflowService extends WorkflowServiceGrpc.WorkflowServiceImplBase {
        @Override
        public void getUsersOnlineStream(GetUsersOnlineStreamRequest request, StreamObserver<User> responses) {
            Source<User> users = Source.from(usersAfter(request.getResumeAfter()));
            ServerStreams.serve(Pipeline.from(users), responses); // returns at once; the call's flow control paces it
        }

        @Override
        public void getUsers(GetUsersRequest request, StreamObserver<GetUsersResponse> responses) {
            if (request.getPageSize() < 0) {
                throw new IllegalArgumentException("pageSize must not be negative"); // → INVALID_ARGUMENT
            }
            responses.onNext(GetUsersResponse.newBuilder()
                    .addAllUsers(usersAfter("").subList(0, 10))
                    .build());
            responses.onCompleted();
        }
    }

    static List<User> usersAfter(String cursor) {
        long after = cursor.isEmpty() ? 0 : Long.parseLong(cursor);
        return LongStream.rangeClosed(after + 1, 1_000)
                .mapToObj(n -> User.newBuilder()
                        .setUserId("u" + n)
                        .setName("User " + n)
                        .setOnline(true)
                        .setCursor(Long.toString(n))
                        .build())
                .toList();
    }

    private Server server;
    private ManagedChannel managedChannel;

    @BeforeEach
    void start() throws Exception {
        String name = "readme-" + System.nanoTime();
        server = InProcessServerBuilder.forName(name)
                .addService(ServerInterceptors.intercept(
                        new WorkflowService(), ServerStreams.exceptionMapping(), CorrelationIds.serverInterceptor()))
                .build()
                .start();
        managedChannel = InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    @AfterEach
    void stop() throws Exception {
        managedChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void readingAStreamWithResilience() throws Exception {
        // --- README: "Reading a stream" ---------------------------------------------------------------------
        Channel channel = ClientInterceptors.intercept(managedChannel, CorrelationIds.clientInterceptor());
        CircuitBreakerRegistry breakers = CircuitBreakerRegistry.of(GrpcCircuitBreakers.defaultConfig());
        CircuitBreaker breaker = GrpcCircuitBreakers.forTarget(breakers, channel);

        ResilienceOptions resilience = ResilienceOptions.builder()
                .maxRetryAttempts(5) // 1–10, default 3
                .initialRetryDelay(Duration.ofMillis(200)) // 50–5000 ms, default 100
                .maxRetryDelay(Duration.ofSeconds(2)) // 500–10000 ms, default 1000
                .requestTimeout(Duration.ofSeconds(30)) // 10–300 s: idle timeout of a stream
                .jitter(0.2)
                .build();

        Source<User> online = GrpcSource.builder(
                        channel,
                        WorkflowServiceGrpc.getGetUsersOnlineStreamMethod(),
                        GetUsersOnlineStreamRequest.getDefaultInstance())
                .prefetch(256)
                .resilience(resilience)
                .resumeWith((original, last) ->
                        original.toBuilder().setResumeAfter(last.getCursor()).build())
                .circuitBreaker(breaker)
                .build();

        PipelineResult<Long> result = Pipeline.from(online)
                .pipelineName("users-online")
                .filter(User::getOnline)
                .to(Sink.count())
                .run(Duration.ofMinutes(5));

        assertThat(result.value()).isEqualTo(1_000);
        assertThat(result.summary().attributes()).containsEntry(GrpcSource.ATTRIBUTE_STATUS, "OK");
    }

    @Test
    void aUnaryCallAsAStageFunction() throws Exception {
        // --- README: "Unary calls" --------------------------------------------------------------------------
        GrpcUnary<GetUsersRequest, GetUsersResponse> getUsers = GrpcUnary.builder(
                        managedChannel, WorkflowServiceGrpc.getGetUsersMethod())
                .resilience(ResilienceOptions.defaults()) // per-attempt deadline 30 s, 3 retries
                .build();

        PipelineResult<Long> pages = Pipeline.from(Source.range(1, 9))
                .map(page -> GetUsersRequest.newBuilder().setPageSize(10).build())
                .mapConcurrent(4, getUsers) // 4 calls in flight, results in input order
                .map(response -> (long) response.getUsersCount())
                .to(Sink.reduce(0L, Long::sum))
                .run(Duration.ofMinutes(1));

        assertThat(pages.value()).isEqualTo(80L);
    }

    @Test
    void theCircuitBreakersPublishTheirOwnMeters() {
        Channel channel = managedChannel;
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        // --- README: "Metrics" ------------------------------------------------------------------------------
        CircuitBreakerRegistry breakers = CircuitBreakerRegistry.of(GrpcCircuitBreakers.defaultConfig());
        TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(breakers).bindTo(registry);

        CircuitBreaker breaker = GrpcCircuitBreakers.forTarget(breakers, channel); // bound as it is made

        assertThat(registry.get("resilience4j.circuitbreaker.state")
                        .tag("name", breaker.getName())
                        .tag("state", "closed")
                        .gauge()
                        .value())
                .isEqualTo(1.0);
    }

    @Test
    void theStatusTableIsConfigurable() {
        // --- README: "Status table" -------------------------------------------------------------------------
        ResilienceOptions readThroughRestarts = ResilienceOptions.builder()
                .retryableCodes(Status.Code.UNAVAILABLE, Status.Code.INTERNAL, Status.Code.CANCELLED)
                .build();

        assertThat(readThroughRestarts.isRetryable(Status.Code.CANCELLED)).isTrue();
        assertThat(readThroughRestarts.isRetryable(Status.Code.DEADLINE_EXCEEDED))
                .isFalse();
        assertThat(readThroughRestarts.backoff(3)).isEqualTo(Duration.ofMillis(400));
    }
}
