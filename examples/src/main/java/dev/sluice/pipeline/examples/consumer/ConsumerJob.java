package dev.sluice.pipeline.examples.consumer;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineCancelledException;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.audit.AuditListener;
import dev.sluice.pipeline.audit.AuditReport;
import dev.sluice.pipeline.audit.AuditWriter;
import dev.sluice.pipeline.audit.JdbcAuditSink;
import dev.sluice.pipeline.examples.CommandLine;
import dev.sluice.pipeline.examples.CommandLine.BadInput;
import dev.sluice.pipeline.examples.CommandLine.HelpRequested;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A consumer-style job: it reads an endless stream of readings and writes them to a database until it is
 * stopped. Ctrl-C (SIGINT) or SIGTERM stops it gracefully: the source stops, every reading already inside the
 * pipeline is written, the audit row says the run was STOPPED and how much it did, the audit writer is flushed,
 * and the process exits. The shutdown hook is the whole of the graceful part:
 *
 * <pre>{@code
 * Runtime.getRuntime().addShutdownHook(new Thread(() -> {
 *     job.stop(Duration.ofSeconds(10));     // drain what is inside, then cancel the rest
 *     PipelineResult<Long> result = job.await();
 *     audit.close(Duration.ofSeconds(5));   // flush the audit trail
 * }));
 * }</pre>
 *
 * <p>Usage: {@code ./run-demo consumer [--data-dir DIR]} (see {@code --help}).
 */
public final class ConsumerJob {

    static final Path DEFAULT_DATA_DIR = Path.of("sluice-data", "consumer");
    static final String DATABASE_FILE = "consumer.db";

    static final String USAGE = """
            Usage: ./run-demo consumer [options]
            A consumer-style job: it reads an endless stream of readings (about 20,000 a second) and writes them
            to a SQLite database until Ctrl-C or SIGTERM stops it gracefully: every reading inside the pipeline
            is written, the audit row says the run was STOPPED, and the process exits.
              --data-dir DIR   the job's folder, created if missing (default sluice-data/consumer): its database
                               consumer.db (table readings, added to on every run), and the audit spill file
              --help           this text
            Exits as a process stopped by that signal does (130 for Ctrl-C, 143 for SIGTERM); 1 if the job fails
            on its own; 2 for a bad option or a folder it cannot use.""";

    private ConsumerJob() {}

    public static void main(String[] args) throws Exception {
        System.exit(run(List.of(args)));
    }

    /** Runs the job with the options in {@code args} until it is stopped; returns the process's exit code. */
    public static int run(List<String> args) throws Exception {
        return CommandLine.run("run-demo consumer", USAGE, () -> consume(dataDir(args)));
    }

    private static Path dataDir(List<String> args) throws BadInput, HelpRequested {
        Path dataDir = DEFAULT_DATA_DIR;
        CommandLine line = new CommandLine(args);
        while (line.hasNext()) {
            String arg = line.next();
            if (arg.equals("--data-dir")) {
                dataDir = line.path(arg);
            } else {
                throw CommandLine.isOption(arg)
                        ? CommandLine.unknownOption(arg)
                        : new BadInput("unexpected argument '" + arg + "' (the consumer takes only options)");
            }
        }
        return dataDir;
    }

    private static int consume(Path dataDir) throws Exception {
        Path db = CommandLine.createDirectory("--data-dir", dataDir).resolve(DATABASE_FILE);
        String url = "jdbc:sqlite:" + db;
        ReadingTable table = ReadingTable.open(url);
        AuditWriter audit;
        try {
            audit = CommandLine.startAudit(
                    AuditWriter.builder(JdbcAuditSink.forUrl(url)), db.resolveSibling("audit-spill.jsonl"));
        } catch (BadInput | RuntimeException e) {
            table.close();
            throw e;
        }

        // An endless stream: about 20,000 readings a second, as a message broker or a gRPC stream would deliver.
        Source<Reading> readings = emitter -> {
            for (long sequence = 0; ; sequence++) {
                if (sequence % 200 == 0) {
                    Thread.sleep(10);
                }
                emitter.emit(Reading.next(sequence));
            }
        };
        PipelineHandle<Long> job = Pipeline.from(readings)
                .pipelineName("sensor-consumer")
                .listener(AuditListener.to(audit).startedRowAfter(Duration.ZERO)) // a row at once: it runs for hours
                .batch(200, Duration.ofMillis(200))
                .to(Sink.<List<Reading>>forEach(table::insert).named("write"))
                .start();
        System.out.println("consuming into " + db + " (table " + ReadingTable.TABLE + "); correlation "
                + job.correlationId() + "; Ctrl-C to stop");

        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean stopping = new AtomicBoolean();
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            if (job.isDone()) {
                                return; // it ended on its own, and main() has reported it
                            }
                            stopping.set(true);
                            try {
                                job.stop(Duration.ofSeconds(10));
                                PipelineResult<Long> result = job.await();
                                AuditReport report = audit.close(Duration.ofSeconds(5));
                                long rows = table.count();
                                table.close();
                                System.out.printf(
                                        "stopped: outcome %s, %d readings written (%d rows in the table), audit %d written%n",
                                        result.outcome(), result.itemCount(), rows, report.written());
                            } catch (Exception e) {
                                System.out.println("stopping failed: " + e);
                            } finally {
                                stopped.countDown();
                            }
                        },
                        "sensor-consumer-shutdown"));

        try {
            job.await(); // returns once stopped, or throws if the job fails on its own
        } catch (PipelineFailedException | PipelineCancelledException e) {
            if (!stopping.get()) {
                System.out.println("the job failed: " + e.getMessage());
                audit.close(Duration.ofSeconds(5));
                return 1;
            }
        }
        stopped.await(); // the shutdown hook finishes the stop, and the JVM exits with the signal's status
        return 0;
    }
}
