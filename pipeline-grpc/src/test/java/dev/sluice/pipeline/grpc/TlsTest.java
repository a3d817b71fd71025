package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.proto.shapes.ShapeServiceGrpc;
import dev.sluice.pipeline.proto.shapes.UploadSummary;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.grpc.CallCredentials;
import io.grpc.CallOptions;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * TLS, mutual TLS and call credentials, with certificates made at test time ({@link TestCertificates}): Sluice's
 * sources and sinks work over them as over plaintext, and a wrong certificate or a missing token fails with a clear
 * error, is not retried, and opens no breaker.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TlsTest {

    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final String TOKEN = "s3cret-token";

    private static TestCertificates.Authority authority;
    private static TestCertificates.Authority stranger;
    private static TestCertificates.Identity serverIdentity;
    private static TestCertificates.Identity clientIdentity;
    private static TestCertificates.Identity strangerClient;

    private Server server;
    private ManagedChannel channel;

    @BeforeAll
    static void certificates() throws Exception {
        authority = TestCertificates.authority("sluice-test-ca");
        stranger = TestCertificates.authority("someone-else-ca");
        serverIdentity = authority.issue("server");
        clientIdentity = authority.issue("client");
        strangerClient = stranger.issue("client");
    }

    @AfterEach
    void stop() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }

    private void startServer(TlsServerCredentials.ClientAuth clientAuth, boolean requireToken) throws Exception {
        TlsServerCredentials.Builder credentials = TlsServerCredentials.newBuilder()
                .keyManager(serverIdentity.certificateChain(), serverIdentity.privateKey())
                .clientAuth(clientAuth);
        if (clientAuth != TlsServerCredentials.ClientAuth.NONE) {
            credentials.trustManager(authority.trustedCertificate());
        }
        var services = new java.util.ArrayList<io.grpc.ServerServiceDefinition>();
        services.add(new CountingItemService().bindService());
        services.add(new SluiceShapeService().bindService());
        NettyServerBuilder builder =
                NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), credentials.build());
        for (var service : services) {
            builder.addService(requireToken ? ServerInterceptors.intercept(service, new RequireBearer()) : service);
        }
        server = builder.build().start();
    }

    private ManagedChannel channel(ChannelCredentials credentials) {
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort(), credentials)
                .overrideAuthority("localhost")
                .directExecutor()
                .build();
        return channel;
    }

    private static ChannelCredentials trusting(TestCertificates.Authority ca) throws Exception {
        return TlsChannelCredentials.newBuilder()
                .trustManager(ca.trustedCertificate())
                .build();
    }

    @Test
    void aStreamAndAnUploadRunOverTls() throws Exception {
        startServer(TlsServerCredentials.ClientAuth.NONE, false);
        ManagedChannel tls = channel(trusting(authority));

        long read = Pipeline.from(GrpcSource.of(tls, Items.STREAM, Items.request(5_000)))
                .to(Sink.count())
                .run(Duration.ofSeconds(30))
                .value();
        UploadSummary uploaded = Pipeline.from(ClientStreamTest.items(5_000, 16))
                .to(GrpcClientStream.builder(tls, ShapeServiceGrpc.getUploadMethod())
                        .build()
                        .sink())
                .run(Duration.ofSeconds(30))
                .value();

        assertThat(read).isEqualTo(5_000);
        assertThat(uploaded.getCount()).isEqualTo(5_000);
    }

    @Test
    void mutualTlsAcceptsAClientCertificateOfTheTrustedAuthority() throws Exception {
        startServer(TlsServerCredentials.ClientAuth.REQUIRE, false);
        ManagedChannel mtls = channel(TlsChannelCredentials.newBuilder()
                .trustManager(authority.trustedCertificate())
                .keyManager(clientIdentity.certificateChain(), clientIdentity.privateKey())
                .build());

        long exchanged = Pipeline.from(ClientStreamTest.items(1_000, 16))
                .via(GrpcBidiStream.builder(mtls, ShapeServiceGrpc.getExchangeMethod())
                        .build())
                .to(Sink.count())
                .run(Duration.ofSeconds(30))
                .value();

        assertThat(exchanged).isEqualTo(1_000);
    }

    @Test
    void aClientCertificateOfAnotherAuthorityFailsOnceAndOpensNoBreaker() throws Exception {
        startServer(TlsServerCredentials.ClientAuth.REQUIRE, false);
        ManagedChannel wrong = channel(TlsChannelCredentials.newBuilder()
                .trustManager(authority.trustedCertificate())
                .keyManager(strangerClient.certificateChain(), strangerClient.privateKey())
                .build());
        assertFailsOnceWithoutBreakerFailure(wrong);
    }

    @Test
    void aServerCertificateOfAnUntrustedAuthorityFailsOnceAndOpensNoBreaker() throws Exception {
        startServer(TlsServerCredentials.ClientAuth.NONE, false);
        assertFailsOnceWithoutBreakerFailure(channel(trusting(stranger)));
    }

    @Test
    void aBearerTokenFromTheUsersCallCredentialsIsAcceptedAndAMissingOneFailsOnce() throws Exception {
        startServer(TlsServerCredentials.ClientAuth.NONE, true);
        ManagedChannel tls = channel(trusting(authority));

        long read = Pipeline.from(GrpcSource.builder(tls, Items.STREAM, Items.request(1_000))
                        .callOptions(CallOptions.DEFAULT.withCallCredentials(new Bearer(TOKEN)))
                        .build())
                .to(Sink.count())
                .run(Duration.ofSeconds(30))
                .value();
        assertThat(read).isEqualTo(1_000);

        CircuitBreaker breaker = CircuitBreaker.ofDefaults("tls-token");
        Throwable failure =
                catchThrowable(() -> Pipeline.from(GrpcSource.builder(tls, Items.STREAM, Items.request(1_000))
                                .resilience(ResilienceOptions.defaults())
                                .circuitBreaker(breaker)
                                .build())
                        .to(Sink.count())
                        .run(Duration.ofSeconds(30)));
        assertThat(failure).isInstanceOf(PipelineFailedException.class);
        assertThat(failure.getCause()).isInstanceOfSatisfying(GrpcCallException.class, g -> {
            assertThat(g.code()).isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(g.attempts()).isEqualTo(1);
            assertThat(g.getMessage()).contains("bearer token");
        });
        assertThat(breaker.getMetrics().getNumberOfFailedCalls()).isZero();
    }

    private static void assertFailsOnceWithoutBreakerFailure(ManagedChannel channel) {
        CircuitBreaker breaker = CircuitBreaker.ofDefaults("tls");
        Throwable failure =
                catchThrowable(() -> Pipeline.from(GrpcSource.builder(channel, Items.STREAM, Items.request(1_000))
                                .resilience(ResilienceOptions.builder()
                                        .sleeper(new RecordingSleeper())
                                        .build())
                                .circuitBreaker(breaker)
                                .build())
                        .to(Sink.count())
                        .run(Duration.ofSeconds(60)));
        assertThat(failure).isInstanceOf(PipelineFailedException.class);
        assertThat(failure.getCause()).isInstanceOfSatisfying(GrpcCallException.class, g -> {
            assertThat(g.attempts()).isEqualTo(1);
            assertThat(g.getMessage()).containsIgnoringCase("certificate");
        });
        assertThat(breaker.getMetrics().getNumberOfFailedCalls()).isZero();
        assertThat(breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    /** The user's own call credentials: a bearer token in the authorization header. */
    private static final class Bearer extends CallCredentials {
        private final String token;

        Bearer(String token) {
            this.token = token;
        }

        @Override
        public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
            Metadata headers = new Metadata();
            headers.put(AUTHORIZATION, "Bearer " + token);
            applier.apply(headers);
        }
    }

    /** The server's check: a call without the token is closed with UNAUTHENTICATED before it reaches the service. */
    private static final class RequireBearer implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(
                ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            if (!("Bearer " + TOKEN).equals(headers.get(AUTHORIZATION))) {
                call.close(Status.UNAUTHENTICATED.withDescription("a valid bearer token is required"), new Metadata());
                return new ServerCall.Listener<>() {};
            }
            return next.startCall(call, headers);
        }
    }
}
