package dev.sluice.pipeline.examples.kafka;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineCancelledException;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.audit.AuditListener;
import dev.sluice.pipeline.audit.AuditWriter;
import dev.sluice.pipeline.audit.JdbcAuditSink;
import dev.sluice.pipeline.examples.CommandLine;
import dev.sluice.pipeline.examples.CommandLine.BadInput;
import dev.sluice.pipeline.kafka.KafkaRebalance;
import dev.sluice.pipeline.kafka.KafkaSource;
import java.io.PrintStream;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The consumer job of the Kafka demo, one copy per JVM: it reads a topic of user events as a member of a consumer
 * group, enriches each event with a blocking call (in order per user), and upserts the events into PostgreSQL, with
 * an audit row for its run and one for each rebalance. Start more copies with the same group and they share the
 * topic's partitions; kill one and the others take its partitions over, and read again what it had not committed.
 *
 * <p>The heart of it is a source and a pipeline, both in {@code consume}: see docs/kafka.md and docs/demo.md.
 *
 *
 * SIGTERM or Ctrl-C stops it gracefully: the source stops, what is inside is written, the offsets of what finished are
 * committed, the member leaves the group (its partitions go to the others at once), and the audit trail is flushed.
 *
 * <p>The demo ({@link KafkaDemo}) starts copies of it; it speaks to the demo on stdout, one line at a time:
 * {@code partitions N} when it holds N partitions after a rebalance, {@code processed N} every
 * {@link #PROGRESS_INTERVAL}, and {@code stopped OUTCOME N} at the end.
 */
public final class UserEventsJob {

    static final String PIPELINE_NAME = "user-events-job";
    static final Duration PROGRESS_INTERVAL = Duration.ofMillis(250);
    static final Duration COMMIT_INTERVAL = Duration.ofMillis(200);
    static final int CONCURRENCY = 8;
    static final int BATCH = 100;
    private static final int MAX_BUFFERED = 500;
    private static final int MAX_POLL_RECORDS = 200;
    private static final int LINK = 128;
    /**
     * The most records one copy holds, emitted or fetched, whose offsets are not committed yet: the source's hand-over
     * and one poll, the links (the last one carries batches), the by-key stage's window and its groups, the batch being
     * filled and the one being written. A copy killed replays at most this plus what it finishes in the last commit
     * interval.
     */
    static final int IN_FLIGHT = MAX_BUFFERED
            + MAX_POLL_RECORDS
            + LINK
            + Pipeline.TRANSFER_BATCH
            + 4 * CONCURRENCY
            + Pipeline.TRANSFER_BATCH
            + LINK
            + BATCH
            + 2 * BATCH
            + BATCH;

    private UserEventsJob() {}

    public static void main(String[] args) throws Exception {
        System.exit(run(List.of(args)));
    }

    /**
     * Options: {@code --bootstrap-servers --topic --group --jdbc-url --correlation-id}, each required, and
     * {@code --exit-with-parent} (stop when the process that started this one ends).
     */
    static int run(List<String> args) throws Exception {
        return CommandLine.run("user-events-job", "", () -> {
            String bootstrap = null;
            String topic = null;
            String group = null;
            String jdbcUrl = null;
            String correlationId = null;
            boolean exitWithParent = false;
            CommandLine line = new CommandLine(args);
            while (line.hasNext()) {
                String arg = line.next();
                switch (arg) {
                    case "--bootstrap-servers" -> bootstrap = line.value(arg);
                    case "--topic" -> topic = line.value(arg);
                    case "--group" -> group = line.value(arg);
                    case "--jdbc-url" -> jdbcUrl = line.value(arg);
                    case "--correlation-id" -> correlationId = line.value(arg);
                    case "--exit-with-parent" -> exitWithParent = true;
                    default -> throw CommandLine.unknownOption(arg);
                }
            }
            if (bootstrap == null || topic == null || group == null || jdbcUrl == null || correlationId == null) {
                throw new BadInput(
                        "--bootstrap-servers, --topic, --group, --jdbc-url and --correlation-id are all required");
            }
            if (exitWithParent) {
                // started by the demo: a demo that ends in any way (even killed) stops its copies, gracefully
                ProcessHandle.current()
                        .parent()
                        .ifPresent(parent -> parent.onExit().thenRun(() -> System.exit(0)));
            }
            return consume(bootstrap, topic, group, jdbcUrl, correlationId, System.out);
        });
    }

    private static int consume(
            String bootstrap, String topic, String group, String jdbcUrl, String correlationId, PrintStream out)
            throws Exception {
        EventTable table = EventTable.open(jdbcUrl, correlationId);
        AuditWriter audit = AuditWriter.builder(JdbcAuditSink.forUrl(jdbcUrl)).build();
        ProfileService profiles = new ProfileService();
        Progress progress = new Progress(table, out);

        KafkaSource<String, String> events = KafkaSource.builder(new StringDeserializer(), new StringDeserializer())
                .bootstrapServers(bootstrap)
                .groupId(group)
                .topics(topic)
                .property(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer") // Kafka 4's consumer group protocol
                .onRebalance(RebalanceAudit.to(audit).andThen(progress::rebalanced)) // an audit row per rebalance
                .maxBuffered(MAX_BUFFERED)
                .property(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, MAX_POLL_RECORDS)
                .commitInterval(COMMIT_INTERVAL)
                .build();
        PipelineHandle<Long> job = Pipeline.from(events)
                .buffer(LINK)
                .pipelineName(PIPELINE_NAME)
                .correlationId(correlationId)
                .listener(AuditListener.to(audit).startedRowAfter(Duration.ZERO)) // an audit row per run, at once
                .mapConcurrentByKey(
                        CONCURRENCY, ConsumerRecord::key, record -> profiles.enrich(UserEvent.parse(record.value())))
                .named("enrich")
                .buffer(LINK)
                .batch(BATCH, Duration.ofMillis(50))
                .buffer(2)
                .to(Sink.forEach(table::upsert).named("upsert"))
                .start();
        Thread reporter = Thread.ofVirtual().name("progress").start(() -> progress.reportUntil(job));

        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean stopping = new AtomicBoolean();
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            if (job.isDone()) {
                                return;
                            }
                            stopping.set(true);
                            try {
                                job.stop(Duration.ofSeconds(10));
                                PipelineResult<Long> result = job.await();
                                reporter.interrupt();
                                audit.close(Duration.ofSeconds(5));
                                table.close();
                                out.println("stopped " + result.outcome() + " " + table.written());
                            } catch (Exception e) {
                                out.println("stopping failed: " + CommandLine.oneLine(e.toString()));
                            } finally {
                                out.flush();
                                stopped.countDown();
                            }
                        },
                        "user-events-job-shutdown"));

        try {
            job.await(); // returns once stopped, or throws if the job fails on its own
        } catch (PipelineFailedException | PipelineCancelledException e) {
            if (!stopping.get()) {
                out.println("failed " + CommandLine.oneLine(e.getMessage()));
                audit.close(Duration.ofSeconds(5));
                return 1;
            }
        }
        stopped.await();
        return 0;
    }

    /**
     * What the job tells the demo on stdout: the partitions it holds after each rebalance, and the events written
     * every {@link #PROGRESS_INTERVAL}. {@link #rebalanced} runs on the source's poll thread, {@link #reportUntil} on
     * a thread of its own.
     */
    private static final class Progress {
        private final EventTable table;
        private final PrintStream out;
        private final Set<TopicPartition> held = new HashSet<>(); // the poll thread's only

        Progress(EventTable table, PrintStream out) {
            this.table = table;
            this.out = out;
        }

        void rebalanced(KafkaRebalance r) {
            if (r.kind() == KafkaRebalance.Kind.ASSIGNED) {
                held.addAll(r.partitions());
            } else {
                r.partitions().forEach(held::remove);
            }
            out.println("partitions " + held.size());
        }

        void reportUntil(PipelineHandle<?> job) {
            try {
                while (!job.isDone()) {
                    out.println("processed " + table.written());
                    Thread.sleep(PROGRESS_INTERVAL);
                }
            } catch (InterruptedException e) {
                // the job is stopping: its last word says how many
            }
        }
    }
}
