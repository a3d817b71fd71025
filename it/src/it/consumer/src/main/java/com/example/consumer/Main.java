package com.example.consumer;

import dev.sluice.pipeline.Channel;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.audit.AuditEvent;
import dev.sluice.pipeline.audit.AuditListener;
import dev.sluice.pipeline.audit.AuditWriter;
import dev.sluice.pipeline.audit.JdbcAuditSink;
import dev.sluice.pipeline.grpc.GrpcSource;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Uses each of Sluice's library modules once, as a user's job would, and fails loudly if anything is off. */
public final class Main {

    private Main() {}

    public static void main(String[] args) throws Exception {
        Path work = Files.createDirectories(Path.of(args.length > 0 ? args[0] : "target").resolve("consumer-run"));
        core();
        grpc();
        audit(work);
        System.out.println("consumer check: pipeline-core, pipeline-grpc and pipeline-audit work from a user's build");
    }

    /** pipeline-core: a channel between a producer thread and a pipeline. */
    private static void core() throws Exception {
        Channel<Integer> numbers = Channel.bounded(8);
        Thread producer = Thread.ofVirtual().start(() -> {
            try {
                for (int i = 1; i <= 100; i++) {
                    numbers.send(i);
                }
                numbers.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        long sum = Pipeline.from(Source.fromChannel(numbers))
                .map(i -> (long) i * 2)
                .to(Sink.reduce(0L, Long::sum))
                .run(Duration.ofSeconds(30))
                .value();
        producer.join();
        check(sum == 10_100L, "core: sum of doubled 1..100 is 10100, got " + sum);
    }

    /** pipeline-grpc: a server stream read with flow control, from an in-process server. */
    private static void grpc() throws Exception {
        MethodDescriptor<String, String> words = MethodDescriptor.<String, String>newBuilder()
                .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
                .setFullMethodName(MethodDescriptor.generateFullMethodName("check.Words", "Stream"))
                .setRequestMarshaller(new Utf8())
                .setResponseMarshaller(new Utf8())
                .build();
        ServerServiceDefinition service = ServerServiceDefinition.builder("check.Words")
                .addMethod(words, ServerCalls.asyncServerStreamingCall((String prefix, io.grpc.stub.StreamObserver<String> out) -> {
                    for (int i = 0; i < 1_000; i++) {
                        out.onNext(prefix + i);
                    }
                    out.onCompleted();
                }))
                .build();
        String name = InProcessServerBuilder.generateName();
        Server server = InProcessServerBuilder.forName(name).addService(service).build().start();
        ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
        try {
            List<String> received = Pipeline.from(GrpcSource.builder(channel, words, "w").prefetch(32).build())
                    .to(Sink.toList())
                    .run(Duration.ofSeconds(30))
                    .value();
            check(received.size() == 1_000, "grpc: 1000 messages, got " + received.size());
            check(received.get(999).equals("w999"), "grpc: in order, last was " + received.get(999));
        } finally {
            channel.shutdownNow();
            server.shutdownNow();
        }
    }

    /** pipeline-audit: a run recorded in SQLite and read back by its correlation ID. */
    private static void audit(Path work) throws Exception {
        Path db = work.resolve("audit.db");
        Files.deleteIfExists(db);
        JdbcAuditSink store = JdbcAuditSink.sqlite(db);
        PipelineResult<Long> result;
        try (AuditWriter audit = AuditWriter.builder(store).build()) {
            result = Pipeline.from(Source.range(0, 500))
                    .pipelineName("consumer-check")
                    .listener(AuditListener.to(audit))
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));
        }
        List<AuditEvent> events = store.findByCorrelationId(result.summary().correlationId());
        check(events.size() == 1, "audit: one event for the run, got " + events);
        check(events.get(0).itemCount() == 500, "audit: 500 items recorded, got " + events.get(0));
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    /** Strings as UTF-8 bytes on the wire. */
    private static final class Utf8 implements MethodDescriptor.Marshaller<String> {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
