package com.example.modular;

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
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.module.ModuleReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Uses pipeline-core, pipeline-grpc and pipeline-audit from a named module on the module path, then proves the
 * boundary: what each library module exports, and that javac refuses an import of an internal package.
 */
public final class Main {

    private Main() {}

    public static void main(String[] args) throws Exception {
        Path work = Files.createDirectories(Path.of(args.length > 0 ? args[0] : "target").resolve("modular-run"));
        check(Main.class.getModule().isNamed(), "the program runs in its own named module");
        core();
        grpc();
        audit(work);
        exportsOnlyTheApi();
        javacRefusesAnInternalImport(work);
        System.out.println("modular consumer check: pipeline-core, pipeline-grpc and pipeline-audit work on the module"
                + " path, and their internal packages are out of reach");
    }

    /** pipeline-core: a pipeline from a range to a sum. */
    private static void core() throws Exception {
        long sum = Pipeline.from(Source.range(1, 101))
                .map(i -> (long) i * 2)
                .to(Sink.reduce(0L, Long::sum))
                .run(Duration.ofSeconds(30))
                .value();
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
                .addMethod(words, ServerCalls.asyncServerStreamingCall((String prefix, StreamObserver<String> out) -> {
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

    /** pipeline-audit: a run recorded in SQLite (its driver found as a service) and read back. */
    private static void audit(Path work) throws Exception {
        Path db = work.resolve("audit.db");
        Files.deleteIfExists(db);
        JdbcAuditSink store = JdbcAuditSink.sqlite(db);
        PipelineResult<Long> result;
        try (AuditWriter audit = AuditWriter.builder(store).build()) {
            result = Pipeline.from(Source.range(0, 500))
                    .pipelineName("modular-consumer-check")
                    .listener(AuditListener.to(audit))
                    .to(Sink.count())
                    .run(Duration.ofSeconds(30));
        }
        List<AuditEvent> events = store.findByCorrelationId(result.summary().correlationId());
        check(events.size() == 1, "audit: one event for the run, got " + events);
        check(events.get(0).itemCount() == 500, "audit: 500 items recorded, got " + events.get(0));
    }

    /** Each library module exports its API package; internals are exported to no one, or only to Sluice's own. */
    private static void exportsOnlyTheApi() {
        Module me = Main.class.getModule();
        Module core = Pipeline.class.getModule();
        Module grpc = GrpcSource.class.getModule();
        Module audit = AuditWriter.class.getModule();
        check(core.getName().equals("dev.sluice.pipeline"), "core is a named module, got " + core);
        check(grpc.getName().equals("dev.sluice.pipeline.grpc"), "grpc is a named module, got " + grpc);
        check(audit.getName().equals("dev.sluice.pipeline.audit"), "audit is a named module, got " + audit);

        check(core.isExported("dev.sluice.pipeline"), "core exports its API");
        check(grpc.isExported("dev.sluice.pipeline.grpc"), "grpc exports its API");
        check(audit.isExported("dev.sluice.pipeline.audit"), "audit exports its API");

        check(!core.isExported("dev.sluice.pipeline.internal", me), "core's internal package is not exported");
        check(!grpc.isExported("dev.sluice.pipeline.grpc.internal", me), "grpc's internal package is not exported");
        check(!audit.isExported("dev.sluice.pipeline.audit.internal", me), "audit's internal package is not exported");

        // The precondition helper: exported to the sibling library modules, not to a user's module.
        String check = "dev.sluice.pipeline.internal.check";
        check(core.getPackages().contains(check), "core holds " + check);
        check(!core.isExported(check), check + " is not exported to everyone");
        check(!core.isExported(check, me), check + " is not exported to a user's module");
        check(core.isExported(check, grpc), check + " is exported to pipeline-grpc");
        check(core.isExported(check, audit), check + " is exported to pipeline-audit");

        // And reflection cannot reach past it either.
        try {
            Class<?> require = Class.forName(check + ".Require");
            require.getMethod("nonNull", Object.class, String.class).invoke(null, "x", "x");
            throw new AssertionError("a user's module called " + require.getName() + " through reflection");
        } catch (IllegalAccessException expected) {
            // not exported to this module
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("Require could not be looked up at all: " + e, e);
        }
    }

    /**
     * The compile-time boundary: javac, given this program's module path, compiles a module that imports core's API
     * and refuses the same module when it imports an internal package.
     */
    private static void javacRefusesAnInternalImport(Path work) throws IOException {
        String api = compile(work.resolve("api-user"), "import dev.sluice.pipeline.Pipeline;", "Pipeline.class");
        check(api.isEmpty(), "a module importing the API compiles, got:\n" + api);
        for (String internal : List.of(
                "dev.sluice.pipeline.internal.check.Require",
                aClassIn(GrpcSource.class.getModule(), "dev.sluice.pipeline.grpc.internal"),
                aClassIn(AuditWriter.class.getModule(), "dev.sluice.pipeline.audit.internal"))) {
            String refused = compile(work.resolve("intruder"), "import " + internal + ";", internal + ".class");
            String pkg = internal.substring(0, internal.lastIndexOf('.'));
            check(
                    refused.contains("package " + pkg + " is not visible"),
                    "javac refuses an import of " + internal + ", got:\n" + refused);
        }
    }

    /** The name of a top-level class in {@code pkg} of {@code module}, read from the module's own contents. */
    private static String aClassIn(Module module, String pkg) throws IOException {
        String dir = pkg.replace('.', '/') + "/";
        try (ModuleReader reader = module.getLayer()
                .configuration()
                .findModule(module.getName())
                .orElseThrow()
                .reference()
                .open()) {
            return reader.list()
                    .filter(entry -> entry.startsWith(dir) && entry.endsWith(".class"))
                    .map(entry -> entry.substring(0, entry.length() - ".class".length()))
                    .filter(entry -> entry.indexOf('/', dir.length()) < 0 && !entry.contains("$"))
                    .filter(entry -> !entry.endsWith("package-info"))
                    .map(entry -> entry.replace('/', '.'))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(module.getName() + " holds no class in " + pkg));
        }
    }

    /** Compiles a one-class module that requires Sluice's modules; returns javac's diagnostics (empty if clean). */
    private static String compile(Path dir, String importLine, String use) throws IOException {
        Path src = Files.createDirectories(dir.resolve("src/com.example.probe/com/example/probe"));
        Files.writeString(
                src.getParent().getParent().getParent().resolve("module-info.java"),
                "module com.example.probe { requires dev.sluice.pipeline; requires dev.sluice.pipeline.grpc;"
                        + " requires dev.sluice.pipeline.audit; }");
        Files.writeString(
                src.resolve("Probe.java"),
                "package com.example.probe;\n" + importLine + "\n"
                        + "public class Probe { public static Object use() { return " + use + "; } }\n");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        check(javac != null, "a JDK's compiler is at hand");
        StringWriter out = new StringWriter();
        int status = javac.getTask(
                        out,
                        null,
                        null,
                        List.of(
                                "-Xlint:-requires-automatic",
                                "--module-path",
                                System.getProperty("jdk.module.path"),
                                "-d",
                                dir.resolve("classes").toString()),
                        null,
                        javac.getStandardFileManager(null, null, StandardCharsets.UTF_8)
                                .getJavaFileObjects(
                                        src.getParent().getParent().getParent().resolve("module-info.java"),
                                        src.resolve("Probe.java")))
                .call()
                ? 0
                : 1;
        return status == 0 ? out.toString().strip() : "status " + status + ":\n" + out;
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
