package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineListener;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.PipelineSummary;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.StageContext;
import dev.sluice.pipeline.grpc.TestServer.Transport;
import dev.sluice.pipeline.proto.items.GetItemRequest;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.ItemServiceGrpc;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import dev.sluice.pipeline.proto.shapes.ShapeServiceGrpc;
import dev.sluice.pipeline.proto.shapes.UploadSummary;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CorrelationIdTest {

    /** What the server saw: the ID in its gRPC Context and MDC in the handler, and the MDC of its producer stage. */
    private final List<String> contextIds = new CopyOnWriteArrayList<>();

    private final List<String> handlerMdc = new CopyOnWriteArrayList<>();
    private final List<String> producerMdc = new CopyOnWriteArrayList<>();
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final Logger correlationLog = (Logger) LoggerFactory.getLogger(CorrelationIds.class);

    private final ItemServiceGrpc.ItemServiceImplBase recording = new ItemServiceGrpc.ItemServiceImplBase() {
        @Override
        public void streamItems(StreamItemsRequest request, StreamObserver<Item> responses) {
            contextIds.add(CorrelationIds.current().orElse("<none>"));
            handlerMdc.add(String.valueOf(MDC.get(StageContext.MDC_CORRELATION_ID)));
            Source<Item> producer = emitter -> {
                producerMdc.add(String.valueOf(MDC.get(StageContext.MDC_CORRELATION_ID)));
                emitter.emit(Items.item(1, Items.payload(0)));
            };
            ServerStreams.serve(producer, responses);
        }

        @Override
        public void getItem(GetItemRequest request, StreamObserver<Item> responses) {
            contextIds.add(CorrelationIds.current().orElse("<none>"));
            handlerMdc.add(String.valueOf(MDC.get(StageContext.MDC_CORRELATION_ID)));
            responses.onNext(Items.item(request.getSequence(), Items.payload(0)));
            responses.onCompleted();
        }
    };

    @BeforeEach
    void captureLogs() {
        logged.start();
        correlationLog.addAppender(logged);
    }

    @AfterEach
    void stopCapturing() {
        correlationLog.detachAppender(logged);
        MDC.clear();
    }

    private TestServer server(Transport transport) {
        return TestServer.start(transport, ServerInterceptors.intercept(recording, CorrelationIds.serverInterceptor()));
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void theRunsIdReachesTheServersContextMdcAndProducerPipeline(Transport transport) throws Exception {
        try (TestServer server = server(transport)) {
            // given
            Channel channel = ClientInterceptors.intercept(server.channel(), CorrelationIds.clientInterceptor());

            // when
            Pipeline.from(GrpcSource.of(channel, Items.STREAM, Items.request(1)))
                    .correlationId("order-run:42")
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));

            // then
            assertThat(contextIds).containsExactly("order-run:42");
            assertThat(handlerMdc).containsExactly("order-run:42");
            assertThat(producerMdc).containsExactly("order-run:42");
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aServedClientStreamRunsUnderTheCallersId(Transport transport) throws Exception {
        // given a client-streaming call served by a pipeline that records the ID in its stage's MDC and its summary
        List<String> stageMdc = new CopyOnWriteArrayList<>();
        List<String> summaryIds = new CopyOnWriteArrayList<>();
        CountDownLatch finished = new CountDownLatch(1);
        PipelineListener onFinish = new PipelineListener() {
            @Override
            public void onFinish(PipelineSummary summary) {
                summaryIds.add(summary.correlationId());
                finished.countDown();
            }
        };
        ShapeServiceGrpc.ShapeServiceImplBase uploads = new ShapeServiceGrpc.ShapeServiceImplBase() {
            @Override
            public StreamObserver<Item> upload(StreamObserver<UploadSummary> responses) {
                return ServerStreams.clientStreaming(
                        responses,
                        items -> Pipeline.from(items)
                                .listener(onFinish)
                                .peek(item -> stageMdc.add(MDC.get(StageContext.MDC_CORRELATION_ID)))
                                .to(Sink.reduce(UploadSummary.getDefaultInstance(), (summary, item) -> summary)));
            }
        };
        try (TestServer server = TestServer.start(
                transport, ServerInterceptors.intercept(uploads, CorrelationIds.serverInterceptor()))) {
            Metadata headers = new Metadata();
            headers.put(CorrelationIds.HEADER, "upload-run:7");
            Channel channel =
                    ClientInterceptors.intercept(server.channel(), MetadataUtils.newAttachHeadersInterceptor(headers));

            // when the caller sends two messages under its ID and half-closes
            CompletableFuture<UploadSummary> answer = ShapeServers.plainUpload(channel, 2);
            answer.get(30, TimeUnit.SECONDS);

            // then the served run took the caller's ID: in its stage's MDC and its summary
            assertThat(finished.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(stageMdc).containsExactly("upload-run:7", "upload-run:7");
            assertThat(summaryIds).containsExactly("upload-run:7");
        }
    }

    @Test
    void aUnaryCallInsideMapConcurrentCarriesTheRunsId() throws Exception {
        try (TestServer server = server(Transport.IN_PROCESS)) {
            // given
            Channel channel = ClientInterceptors.intercept(server.channel(), CorrelationIds.clientInterceptor());
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(channel, ItemServiceGrpc.getGetItemMethod())
                    .build();

            // when
            Pipeline.from(Source.range(1, 5))
                    .correlationId("enrich-7")
                    .mapConcurrent(
                            4,
                            n -> getItem.call(
                                    GetItemRequest.newBuilder().setSequence(n).build()))
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));

            // then
            assertThat(contextIds).hasSize(4).containsOnly("enrich-7");
        }
    }

    @Test
    void offAStageThreadTheMdcIdIsSentAndWithoutOneTheServerMakesAFreshOne() throws Exception {
        try (TestServer server = server(Transport.IN_PROCESS)) {
            // given
            Channel channel = ClientInterceptors.intercept(server.channel(), CorrelationIds.clientInterceptor());
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(channel, ItemServiceGrpc.getGetItemMethod())
                    .build();

            // when
            MDC.put(StageContext.MDC_CORRELATION_ID, "from-mdc");
            getItem.call(GetItemRequest.newBuilder().setSequence(1).build());
            MDC.clear();
            getItem.call(GetItemRequest.newBuilder().setSequence(2).build());

            // then
            assertThat(contextIds.get(0)).isEqualTo("from-mdc");
            assertThat(UUID.fromString(contextIds.get(1))).isNotNull();
            assertThat(logged.list).isEmpty(); // a missing ID is normal, not worth a warning
        }
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "has space",
                "line\nbreak",
                "bell\u0007",
                "tab\tbed",
                "<script>alert(1)</script>",
                "quote\"d",
                "ünïcödé"
            })
    void hostileIdsAreReplacedAndNeverLoggedRaw(String hostile) throws Exception {
        assertHostileIdReplaced(hostile);
    }

    @Test
    void anIdOf128CharactersIsKeptAndOneOf129IsReplaced() throws Exception {
        String longest = "a".repeat(CorrelationIds.MAX_LENGTH);
        try (TestServer server = server(Transport.IN_PROCESS)) {
            callWithRawHeader(server, longest);
        }
        assertThat(contextIds).containsExactly(longest);
        contextIds.clear();
        handlerMdc.clear();
        producerMdc.clear();
        assertHostileIdReplaced("b".repeat(CorrelationIds.MAX_LENGTH + 1));
    }

    @Test
    void twoIdsInOneCallAreReplaced() throws Exception {
        try (TestServer server = server(Transport.IN_PROCESS)) {
            callWithRawHeader(server, "first", "second");
        }
        assertThat(contextIds).hasSize(1);
        assertThat(UUID.fromString(contextIds.get(0))).isNotNull();
    }

    @Test
    void anInvalidRunIdIsSentAsOneStableReplacement() throws Exception {
        try (TestServer server = server(Transport.IN_PROCESS)) {
            // given: a run whose own ID is not valid on the wire
            Channel channel = ClientInterceptors.intercept(server.channel(), CorrelationIds.clientInterceptor());
            String invalid = "batch job #1";

            // when: two runs with that ID
            for (int i = 0; i < 2; i++) {
                Pipeline.from(GrpcSource.of(channel, Items.STREAM, Items.request(1)))
                        .correlationId(invalid)
                        .to(Sink.count())
                        .run(Duration.ofSeconds(30));
            }

            // then
            String expected = UUID.nameUUIDFromBytes(invalid.getBytes(StandardCharsets.UTF_8))
                    .toString();
            assertThat(contextIds).containsExactly(expected, expected);
            assertNeverLogged(invalid);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"order-run:42", "has space"})
    void theServerSendsBackTheIdItUsedInItsResponseHeaders(String sent) throws Exception {
        try (TestServer server = server(Transport.IN_PROCESS)) {
            // when
            Metadata[] echo = callWithRawHeader(server, sent);

            // then: the ID it used, kept or replaced
            assertThat(contextIds).hasSize(1);
            assertThat(echo[0].getAll(CorrelationIds.HEADER)).containsExactly(contextIds.get(0));
            assertThat(contextIds.get(0).equals(sent)).isEqualTo(CorrelationIds.isValid(sent));
        }
    }

    @Test
    void aCallThatFailsBeforeSendingHeadersCarriesTheIdInItsTrailers() throws Exception {
        // given: a handler that fails at once
        ItemServiceGrpc.ItemServiceImplBase failing = new ItemServiceGrpc.ItemServiceImplBase() {
            @Override
            public void getItem(GetItemRequest request, StreamObserver<Item> responses) {
                contextIds.add(CorrelationIds.current().orElse("<none>"));
                responses.onError(Status.NOT_FOUND.asRuntimeException());
            }
        };
        try (TestServer server = TestServer.start(
                Transport.IN_PROCESS, ServerInterceptors.intercept(failing, CorrelationIds.serverInterceptor()))) {
            List<Metadata> trailers = new CopyOnWriteArrayList<>();
            Channel channel = ClientInterceptors.intercept(server.channel(), recordingTrailers(trailers));

            // when
            Throwable thrown = catchThrowable(() -> GrpcUnary.builder(channel, ItemServiceGrpc.getGetItemMethod())
                    .build()
                    .call(GetItemRequest.getDefaultInstance()));

            // then
            assertThat(((GrpcCallException) thrown).code()).isEqualTo(Status.Code.NOT_FOUND);
            assertThat(trailers).hasSize(1);
            assertThat(trailers.get(0).getAll(CorrelationIds.HEADER)).containsExactly(contextIds.get(0));
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void aStreamWhoseServerUsedAnotherIdRecordsAndLogsTheServersId(Transport transport) throws Exception {
        ListAppender<ILoggingEvent> sourceLog = capture(GrpcSource.class);
        try (TestServer server = server(transport)) {
            // given: a channel without the client interceptor, so that the run's ID never reaches the server
            Channel channel = server.channel();

            // when
            PipelineResult<Long> result = Pipeline.from(GrpcSource.of(channel, Items.STREAM, Items.request(1)))
                    .correlationId("order-run:43")
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));

            // then: the server made an ID of its own, and the run knows it
            String serverId = contextIds.get(0);
            assertThat(serverId).isNotEqualTo("order-run:43");
            assertThat(result.summary().attributes())
                    .containsEntry(CorrelationIds.ATTRIBUTE_SERVER_CORRELATION_ID, serverId);
            assertThat(sourceLog.list)
                    .extracting(ILoggingEvent::getFormattedMessage)
                    .containsExactly("gRPC sluice.items.v1.ItemService/StreamItems: the server used correlation ID "
                            + serverId + ", not order-run:43");
        } finally {
            release(GrpcSource.class, sourceLog);
        }
    }

    @Test
    void unaryCallsWhoseServerUsedAnotherIdRecordTheServersId() throws Exception {
        ListAppender<ILoggingEvent> unaryLog = capture(GrpcUnary.class);
        try (TestServer server = server(Transport.IN_PROCESS)) {
            // given: a channel without the client interceptor
            GrpcUnary<GetItemRequest, Item> getItem = GrpcUnary.builder(
                            server.channel(), ItemServiceGrpc.getGetItemMethod())
                    .build();

            // when
            PipelineResult<Long> result = Pipeline.from(Source.range(1, 5))
                    .correlationId("enrich-8")
                    .mapConcurrent(
                            4,
                            n -> getItem.call(
                                    GetItemRequest.newBuilder().setSequence(n).build()))
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));

            // then: each call got a fresh ID; the run records one of them, and each call logs its own
            assertThat(contextIds).hasSize(4).doesNotContain("enrich-8");
            assertThat(contextIds).contains((String)
                    result.summary().attributes().get(CorrelationIds.ATTRIBUTE_SERVER_CORRELATION_ID));
            assertThat(unaryLog.list)
                    .hasSize(4)
                    .allSatisfy(e -> assertThat(e.getFormattedMessage()).endsWith(", not enrich-8"));
        } finally {
            release(GrpcUnary.class, unaryLog);
        }
    }

    @Test
    void aRunWhoseIdReachedTheServerRecordsNothing() throws Exception {
        ListAppender<ILoggingEvent> sourceLog = capture(GrpcSource.class);
        try (TestServer server = server(Transport.IN_PROCESS)) {
            // given: the client interceptor, and a run ID that is sent as a UUID derived from it
            Channel channel = ClientInterceptors.intercept(server.channel(), CorrelationIds.clientInterceptor());

            // when
            PipelineResult<Long> kept = Pipeline.from(GrpcSource.of(channel, Items.STREAM, Items.request(1)))
                    .correlationId("order-run:44")
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));
            PipelineResult<Long> derived = Pipeline.from(GrpcSource.of(channel, Items.STREAM, Items.request(1)))
                    .correlationId("batch job #2")
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));

            // then
            assertThat(kept.summary().attributes()).doesNotContainKey(CorrelationIds.ATTRIBUTE_SERVER_CORRELATION_ID);
            assertThat(derived.summary().attributes())
                    .doesNotContainKey(CorrelationIds.ATTRIBUTE_SERVER_CORRELATION_ID);
            assertThat(sourceLog.list).isEmpty();
        } finally {
            release(GrpcSource.class, sourceLog);
        }
    }

    @Test
    void validationFollowsTheRule() {
        assertThat(CorrelationIds.isValid("A-z_0.9:x")).isTrue();
        assertThat(CorrelationIds.isValid(UUID.randomUUID().toString())).isTrue();
        assertThat(CorrelationIds.isValid(null)).isFalse();
        assertThat(CorrelationIds.isValid("")).isFalse();
        assertThat(CorrelationIds.isValid("a/b")).isFalse();
    }

    private void assertHostileIdReplaced(String hostile) throws Exception {
        try (TestServer server = server(Transport.IN_PROCESS)) {
            callWithRawHeader(server, hostile);
        }
        assertThat(contextIds).hasSize(1);
        String replacement = contextIds.get(0);
        assertThat(replacement).isNotEqualTo(hostile);
        assertThat(UUID.fromString(replacement).toString()).isEqualTo(replacement);
        assertThat(handlerMdc).containsExactly(replacement);
        assertThat(producerMdc).containsExactly(replacement);
        assertThat(logged.list).hasSize(1);
        assertThat(logged.list.get(0).getFormattedMessage()).contains(replacement);
        assertNeverLogged(hostile);
    }

    private void assertNeverLogged(String raw) {
        for (ILoggingEvent e : logged.list) {
            if (!raw.isEmpty()) {
                assertThat(e.getFormattedMessage()).doesNotContain(raw);
            }
            for (Object arg : e.getArgumentArray() == null ? new Object[0] : e.getArgumentArray()) {
                assertThat(String.valueOf(arg)).isNotEqualTo(raw);
            }
        }
    }

    private static ListAppender<ILoggingEvent> capture(Class<?> loggerOf) {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        ((Logger) LoggerFactory.getLogger(loggerOf)).addAppender(appender);
        return appender;
    }

    private static void release(Class<?> loggerOf, ListAppender<ILoggingEvent> appender) {
        ((Logger) LoggerFactory.getLogger(loggerOf)).detachAppender(appender);
    }

    /** An interceptor that keeps the trailers of every call. */
    private static ClientInterceptor recordingTrailers(List<Metadata> trailers) {
        return new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(
                    MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                    @Override
                    public void start(Listener<R> listener, Metadata headers) {
                        super.start(
                                new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                                    @Override
                                    public void onClose(Status status, Metadata t) {
                                        trailers.add(t);
                                        super.onClose(status, t);
                                    }
                                },
                                headers);
                    }
                };
            }
        };
    }

    /**
     * A streaming call whose header carries exactly the given values, bypassing the client interceptor; returns the
     * response headers.
     */
    private static Metadata[] callWithRawHeader(TestServer server, String... values) throws Exception {
        Metadata[] responseHeaders = new Metadata[1];
        ClientInterceptor raw = new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(
                    MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                    @Override
                    public void start(Listener<R> listener, Metadata headers) {
                        for (String v : values) {
                            headers.put(CorrelationIds.HEADER, v);
                        }
                        super.start(
                                new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                                    @Override
                                    public void onHeaders(Metadata h) {
                                        responseHeaders[0] = h;
                                        super.onHeaders(h);
                                    }
                                },
                                headers);
                    }
                };
            }
        };
        Channel channel = ClientInterceptors.intercept(server.channel(), raw);
        Pipeline.from(GrpcSource.of(channel, Items.STREAM, Items.request(1)))
                .to(Sink.count())
                .run(Duration.ofSeconds(30));
        return responseHeaders;
    }
}
