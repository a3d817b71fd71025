package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.shapes.ShapeServiceGrpc;
import dev.sluice.pipeline.proto.shapes.UploadSummary;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A server that answers with bytes the client's marshaller rejects: a protocol error, reported as INTERNAL with the
 * parse error as the cause, counted by the breaker as a failure of the target, and never retried, even by a job
 * that made CANCELLED (what grpc-java itself reports) retryable.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UnparsableResponseTest {

    /** Field 1 with wire type 7, which does not exist: no protobuf message parses it. */
    private static final byte[] NOT_AN_ITEM = {0x0F};

    private final AtomicInteger calls = new AtomicInteger();
    private final RecordingSleeper sleeper = new RecordingSleeper();
    private final ResilienceOptions retryingEverythingTransient = ResilienceOptions.builder()
            .retryableCodes(Status.Code.UNAVAILABLE, Status.Code.INTERNAL, Status.Code.CANCELLED)
            .sleeper(sleeper)
            .build();
    private final CircuitBreaker breaker =
            CircuitBreakerRegistry.of(GrpcCircuitBreakers.defaultConfig()).circuitBreaker("unparsable");

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aStreamedMessageThatCannotBeParsedFailsTheRunAsInternalOnce(Transport transport) throws Exception {
        try (TestServer server = TestServer.start(transport, bytesService())) {
            // given
            GrpcSource<?, Item> source = GrpcSource.builder(server.channel(), Items.STREAM, Items.request(10))
                    .resilience(retryingEverythingTransient)
                    .resumeWith(Items.RESUME_AFTER_CURSOR)
                    .circuitBreaker(breaker)
                    .build();

            // when
            Throwable thrown =
                    catchThrowable(() -> Pipeline.from(source).to(Sink.count()).run(Duration.ofSeconds(30)));

            // then
            assertThat(thrown).isInstanceOf(PipelineFailedException.class);
            assertReportedOnceAsInternal(thrown.getCause());
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aUnaryResponseThatCannotBeParsedFailsTheCallAsInternalOnce(Transport transport) throws Exception {
        try (TestServer server = TestServer.start(transport, bytesService())) {
            // given
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(
                            server.channel(), ItemServiceGrpc.getGetItemMethod())
                    .resilience(retryingEverythingTransient)
                    .circuitBreaker(breaker)
                    .build();

            // when
            Throwable thrown = catchThrowable(() -> getItem.call(GetItemRequest.getDefaultInstance()));

            // then
            assertReportedOnceAsInternal(thrown);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aClientStreamingResponseThatCannotBeParsedFailsTheRunAsInternalOnce(Transport transport) throws Exception {
        try (TestServer server = TestServer.start(transport, bytesUploadService())) {
            // given: one call per run, which is made once
            GrpcClientStream<Item, UploadSummary> upload = GrpcClientStream.builder(
                            server.channel(), ShapeServiceGrpc.getUploadMethod())
                    .circuitBreaker(breaker)
                    .build();

            // when
            Throwable thrown = catchThrowable(() -> Pipeline.from(ClientStreamTest.items(5, 16))
                    .to(upload.sink())
                    .run(Duration.ofSeconds(30)));

            // then
            assertThat(thrown).isInstanceOf(PipelineFailedException.class);
            assertThat(thrown.getCause()).isInstanceOfSatisfying(GrpcCallException.class, failure -> {
                assertThat(failure.code()).isEqualTo(Status.Code.INTERNAL);
                assertThat(failure).hasRootCauseInstanceOf(InvalidProtocolBufferException.class);
                assertThat(failure.itemsDelivered()).isEqualTo(5);
            });
            assertThat(calls.get()).isEqualTo(1);
            assertThat(breaker.getMetrics().getNumberOfFailedCalls()).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aClientStreamingResponseThatCannotBeParsedIsNeverRetriedWhole(Transport transport) throws Exception {
        try (TestServer server = TestServer.start(transport, bytesUploadService())) {
            // given
            GrpcClientStream<Item, UploadSummary> upload = GrpcClientStream.builder(
                            server.channel(), ShapeServiceGrpc.getUploadMethod())
                    .retryWholeCalls(retryingEverythingTransient)
                    .circuitBreaker(breaker)
                    .build();

            // when
            Throwable thrown = catchThrowable(() -> Pipeline.from(ClientStreamTest.items(5, 16))
                    .to(upload.sinkPerCall(10))
                    .run(Duration.ofSeconds(30)));

            // then
            assertThat(thrown).isInstanceOf(PipelineFailedException.class);
            assertReportedOnceAsInternal(thrown.getCause(), "after 1 call and 5 items delivered");
        }
    }

    private void assertReportedOnceAsInternal(Throwable thrown) {
        assertReportedOnceAsInternal(thrown, "after 1 call");
    }

    private void assertReportedOnceAsInternal(Throwable thrown, String after) {
        assertThat(thrown).isInstanceOf(GrpcCallException.class);
        GrpcCallException failure = (GrpcCallException) thrown;
        assertThat(failure.code()).isEqualTo(Status.Code.INTERNAL);
        assertThat(failure.status().getCause()).hasRootCauseInstanceOf(InvalidProtocolBufferException.class);
        assertThat(failure).hasRootCauseInstanceOf(InvalidProtocolBufferException.class);
        assertThat(failure)
                .hasMessageContaining("failed with INTERNAL (a response could not be parsed")
                .hasMessageEndingWith(after
                        + ": a response that cannot be parsed is never retried (the same bytes would come again)");
        assertThat(failure.attempts()).isEqualTo(1);
        assertThat(calls.get()).isEqualTo(1);
        assertThat(sleeper.waits).isEmpty();
        assertThat(breaker.getMetrics().getNumberOfFailedCalls()).isEqualTo(1);
    }

    /** The shape service's upload, registered under its name with a marshaller of raw bytes, answering {@link #NOT_AN_ITEM}. */
    private ServerServiceDefinition bytesUploadService() {
        MethodDescriptor.Marshaller<byte[]> bytes = rawBytes();
        MethodDescriptor<byte[], byte[]> upload = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.CLIENT_STREAMING)
                .setFullMethodName(ShapeServiceGrpc.getUploadMethod().getFullMethodName())
                .setRequestMarshaller(bytes)
                .setResponseMarshaller(bytes)
                .build();
        return ServerServiceDefinition.builder(ShapeServiceGrpc.SERVICE_NAME)
                .addMethod(upload, ServerCalls.asyncClientStreamingCall(responses -> {
                    calls.incrementAndGet();
                    return new StreamObserver<>() {
                        @Override
                        public void onNext(byte[] item) {}

                        @Override
                        public void onError(Throwable t) {}

                        @Override
                        public void onCompleted() {
                            responses.onNext(NOT_AN_ITEM);
                            responses.onCompleted();
                        }
                    };
                }))
                .build();
    }

    /**
     * The item service's two methods, registered under their names with a marshaller of raw bytes, answering with
     * {@link #NOT_AN_ITEM}.
     */
    private ServerServiceDefinition bytesService() {
        MethodDescriptor.Marshaller<byte[]> bytes = rawBytes();
        MethodDescriptor<byte[], byte[]> streamItems = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
                .setFullMethodName(Items.STREAM.getFullMethodName())
                .setRequestMarshaller(bytes)
                .setResponseMarshaller(bytes)
                .build();
        MethodDescriptor<byte[], byte[]> getItem = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(ItemServiceGrpc.getGetItemMethod().getFullMethodName())
                .setRequestMarshaller(bytes)
                .setResponseMarshaller(bytes)
                .build();
        return ServerServiceDefinition.builder(ItemServiceGrpc.SERVICE_NAME)
                .addMethod(streamItems, ServerCalls.asyncServerStreamingCall((request, responses) -> {
                    calls.incrementAndGet();
                    responses.onNext(NOT_AN_ITEM);
                    responses.onCompleted();
                }))
                .addMethod(getItem, ServerCalls.asyncUnaryCall((request, responses) -> {
                    calls.incrementAndGet();
                    responses.onNext(NOT_AN_ITEM);
                    responses.onCompleted();
                }))
                .build();
    }

    private static MethodDescriptor.Marshaller<byte[]> rawBytes() {
        return new MethodDescriptor.Marshaller<>() {
            @Override
            public InputStream stream(byte[] value) {
                return new ByteArrayInputStream(value);
            }

            @Override
            public byte[] parse(InputStream stream) {
                try {
                    return stream.readAllBytes();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
    }
}
