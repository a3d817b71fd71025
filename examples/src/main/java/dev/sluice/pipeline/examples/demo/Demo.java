package dev.sluice.pipeline.examples.demo;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineCancelledException;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.PipelineSummary;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.audit.AuditEvent;
import dev.sluice.pipeline.audit.AuditListener;
import dev.sluice.pipeline.audit.AuditReport;
import dev.sluice.pipeline.audit.AuditWriter;
import dev.sluice.pipeline.audit.JdbcAuditSink;
import dev.sluice.pipeline.examples.CommandLine;
import dev.sluice.pipeline.examples.CommandLine.BadInput;
import dev.sluice.pipeline.examples.Database;
import dev.sluice.pipeline.grpc.CorrelationIds;
import dev.sluice.pipeline.grpc.GrpcSource;
import dev.sluice.pipeline.grpc.ResilienceOptions;
import dev.sluice.pipeline.grpc.ServerStreams;
import dev.sluice.pipeline.proto.workflow.GetUsersOnlineStreamRequest;
import dev.sluice.pipeline.proto.workflow.User;
import dev.sluice.pipeline.proto.workflow.WorkflowServiceGrpc;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The main job: a gRPC server streams users (Netty, loopback, an ephemeral port); a client pipeline reads the
 * stream with flow control and resume, enriches each user with a simulated blocking call (64 at once), groups them
 * in batches of 500 and writes them to a database. The run is audited in the same database, and the demo then
 * checks, in the database, that every user landed exactly once.
 */
public final class Demo {

    private static final Logger log = LoggerFactory.getLogger(Demo.class);
    static final int ENRICH_CONCURRENCY = 64;
    static final int BATCH = 500;

    private Demo() {}

    /**
     * Runs the demo; returns the process exit code: 0 only if every user landed exactly once, 1 if the run did not
     * complete or the count is off.
     *
     * @param terminal whether {@code out} is a terminal, where the progress line is redrawn in place
     * @throws BadInput if the data folder cannot be created, the database cannot be used or holds a table the demo
     *     did not create, or the folder's audit spill file is held by another run (nothing has been written then)
     */
    public static int run(DemoOptions options, PrintStream out, boolean terminal) throws Exception {
        CommandLine.createDirectory("--data-dir", options.dataDir());
        String url = options.effectiveJdbcUrl();
        JdbcAuditSink auditTable = JdbcAuditSink.forUrl(url);
        // The table checked, then the spill file taken, then the table recreated: a second demo on the same folder
        // ends at the spill file, before it recreates the first one's table.
        try (UserTable table = UserTable.open(url);
                AuditWriter audit = CommandLine.startAudit(AuditWriter.builder(auditTable), options.spillFile())) {
            table.recreate();
            out.printf(
                    Locale.ROOT,
                    "Database %s: table %s recreated (the demo's own, recorded in %s); audit rows added to %s%n",
                    options.jdbcUrl() == null ? options.database() : Database.describe(url),
                    UserTable.TABLE,
                    UserTable.MARKER_TABLE,
                    "audit_logs");
            return run(options, out, terminal ? StatusLine.console() : null, table, url, auditTable, audit);
        }
    }

    private static int run(
            DemoOptions options,
            PrintStream out,
            StatusLine terminal,
            UserTable table,
            String url,
            JdbcAuditSink auditTable,
            AuditWriter audit)
            throws Exception {
        UserDirectory directory = new UserDirectory(options.users(), options.failEvery());
        InetAddress loopback = InetAddress.getLoopbackAddress();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress(loopback, 0))
                .addService(ServerInterceptors.intercept(
                        directory, ServerStreams.exceptionMapping(), CorrelationIds.serverInterceptor()))
                .build()
                .start();
        // One channel per target, shared by every call. A 128 KiB HTTP/2 window keeps what is in flight small.
        ManagedChannel channel = NettyChannelBuilder.forAddress(loopback.getHostAddress(), server.getPort())
                .usePlaintext()
                .flowControlWindow(128 * 1024)
                .build();
        String correlationId = UUID.randomUUID().toString();
        MDC.put("correlationId", correlationId);
        try {
            log.info(
                    "client: importing {} users from {} into {}",
                    options.users(),
                    "127.0.0.1:" + server.getPort(),
                    url.startsWith("jdbc:sqlite:") ? "SQLite" : "PostgreSQL");
            AtomicLong written = new AtomicLong();
            GrpcSource<GetUsersOnlineStreamRequest, User> users = GrpcSource.builder(
                            ClientInterceptors.intercept(channel, CorrelationIds.clientInterceptor()),
                            WorkflowServiceGrpc.getGetUsersOnlineStreamMethod(),
                            GetUsersOnlineStreamRequest.getDefaultInstance())
                    .prefetch(256)
                    .resilience(ResilienceOptions.builder().maxRetryAttempts(5).build())
                    .resumeWith((original, last) -> original.toBuilder()
                            .setResumeAfter(last.getCursor())
                            .build())
                    .build();
            ProgressLine progress = new ProgressLine(
                    out,
                    options.users(),
                    written::get,
                    () -> Math.max(0, directory.highestProduced() + 1 - written.get()),
                    terminal);
            long slowSink = options.slowSinkMillis();

            PipelineResult<Long> result;
            try {
                result = Pipeline.from(users)
                        .pipelineName("users-online-import")
                        .correlationId(correlationId)
                        .listener(AuditListener.to(audit))
                        .monitor(Duration.ofMillis(200), progress::update)
                        .mapConcurrent(ENRICH_CONCURRENCY, EnrichedUser::lookUp)
                        .named("enrich")
                        .batch(BATCH, Duration.ofMillis(100))
                        .buffer(4) // at most 4 batches wait for the database
                        .to(Sink.<List<EnrichedUser>>forEach(batch -> {
                                    table.insert(batch);
                                    written.addAndGet(batch.size());
                                    if (slowSink > 0) {
                                        Thread.sleep(slowSink); // --slow-sink: a database under pressure
                                    }
                                })
                                .named("write"))
                        .run();
            } catch (PipelineFailedException e) {
                progress.end(e.summary().duration());
                out.println("The import did not complete: " + e.getMessage());
                return 1;
            } catch (PipelineCancelledException e) {
                progress.end(e.summary().duration());
                out.println("The import did not complete: " + e.getMessage());
                return 1;
            } finally {
                MDC.remove("correlationId");
            }
            progress.end(result.duration());
            AuditReport auditReport = audit.close(Duration.ofSeconds(10));
            UserTable.Count count = table.count();
            List<AuditEvent> auditRows = auditTable.findByCorrelationId(correlationId);
            boolean exact = count.exactlyOnce(options.users());
            printSummary(
                    out, result.summary(), written.get(), directory, auditReport, auditRows, count, exact, options);
            return exact ? 0 : 1;
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    private static void printSummary(
            PrintStream out,
            PipelineSummary s,
            long written,
            UserDirectory directory,
            AuditReport audit,
            List<AuditEvent> auditRows,
            UserTable.Count count,
            boolean exact,
            DemoOptions options) {
        double seconds = s.duration().toNanos() / 1e9;
        Object attempts = s.attributes().getOrDefault(GrpcSource.ATTRIBUTE_ATTEMPTS, 1);
        Object resumes = s.attributes().getOrDefault(GrpcSource.ATTRIBUTE_RESUMES, 0);
        out.printf(
                Locale.ROOT,
                "Imported %,d users in %.1f s: %,.0f users/s (outcome %s, correlation %s)%n",
                written,
                seconds,
                written / Math.max(seconds, 1e-9),
                s.outcome(),
                s.correlationId());
        out.printf(
                Locale.ROOT,
                "  gRPC     %s calls, %s resumes, retries %d; the server was called %d times%n",
                attempts,
                resumes,
                ((Number) attempts).intValue() - 1,
                directory.calls());
        out.printf(Locale.ROOT, "  stages   %s%n", stageLine(s));
        out.printf(
                Locale.ROOT,
                "  audit    %d written, %d spilled, %d dropped; rows for this run: %s%n",
                audit.written(),
                audit.spilled(),
                audit.dropped(),
                auditRows.stream()
                        .map(e -> e.outcome() + " " + e.itemCount() + " items")
                        .toList());
        out.printf(
                Locale.ROOT,
                "  database %,d rows, %,d distinct users of %,d: %s%n",
                count.rows(),
                count.distinctUsers(),
                options.users(),
                exact ? "every user landed exactly once" : "MISMATCH");
    }

    private static String stageLine(PipelineSummary s) {
        StringBuilder b = new StringBuilder();
        s.stages()
                .forEach(st -> b.append(st.name())
                        .append(' ')
                        .append(String.format(Locale.ROOT, "%,d", st.itemsIn() == 0 ? st.itemsOut() : st.itemsIn()))
                        .append("  "));
        return b.toString().trim();
    }
}
