package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.benchmarks.UserEvents.Enriched;
import dev.sluice.pipeline.benchmarks.UserEvents.Event;
import dev.sluice.pipeline.kafka.KafkaSource;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The Kafka demo's consumer job ({@code examples/.../kafka/UserEventsJob}) against a plain {@link KafkaConsumer} poll
 * loop doing the same work, on the same broker, topic, database and machine in the same run. Score: nanoseconds per
 * record. Target: the Sluice job at least 0.9× the plain loop's throughput (plain ns / Sluice ns at least 0.9).
 *
 * <p>Each fork writes a topic of its own ({@value #PARTITIONS} partitions, as the demo's) of {@value #RECORDS} user
 * events ({@code eventId,userId,seq,kind}, keyed by user; {@value #USERS} users as in the demo, event {@code i} of user
 * {@code i % USERS}, so each user has three or four events spread through the topic and its order is kept across
 * polls), and creates a table of the job's columns in the local PostgreSQL. Each invocation reads
 * the whole topic from the start as a new consumer group (both sides pay one group join, with Kafka 4's
 * {@code group.protocol=consumer} as the job) and handles every record the same way: parse, enrich with the job's
 * blocking profile call ({@link UserEvents#enrich}, a {@value UserEvents#LATENCY_MILLIS} ms sleep on either side), at
 * most {@value #CONCURRENCY} calls at once and each user's events in order, upsert in batches of at most
 * {@value #BATCH} (one JDBC batch in one transaction each, as the job's table), and commit the offsets of what is
 * stored. The invocation ends when every record is stored and its offset committed and the consumer has left the
 * group: the group join and the leave are inside the score on both sides, once per invocation.
 *
 * <ul>
 *   <li>{@code sluiceJob}: the job's pipeline and source settings ({@code maxBuffered} 500, {@code max.poll.records}
 *       200, commits every 200 ms, links of 128, {@code mapConcurrentByKey(8, key, …)}, {@code batch(100, 50 ms)}, a
 *       link of 2, a {@code forEach} sink that upserts), started with {@code start()} and stopped gracefully, as
 *       SIGTERM stops the job, once the sink has stored the last record: the stop commits what finished. The job's
 *       audit rows are left out (the audit benchmark measures them).</li>
 *   <li>{@code plainLoop}: subscribe; poll ({@code max.poll.records} 200 as the job); group the polled records by
 *       user and enrich them on a fixed pool of {@value #CONCURRENCY} threads with {@code invokeAll}, one task per
 *       user that enriches that user's records in order; upsert the enriched records in batches of {@value #BATCH};
 *       {@code commitSync()} once the poll's batches are stored; close. A pool of {@value #CONCURRENCY} threads is the
 *       plain Java way to make at most that many calls at once, as the job does (a virtual thread per record would
 *       make up to 200 calls at once: less waiting, but not the same work); a task per user keeps each user's order
 *       as the job's per-key map does. One commit per poll rather than one per batch of {@value #BATCH} costs the
 *       loop fewer round trips and gives it the same guarantee (nothing is committed before it is stored).</li>
 * </ul>
 * The loop does each step after the last (poll, then enrich, then store, then commit), as a plain consumer loop does;
 * the job overlaps them. After each invocation, outside the score, the table must hold every event once and the
 * group's committed offsets must cover every record and each user's events must have been written in order (any
 * of these wrong fails the run); the table is emptied before the
 * next. The broker is {@code scripts/kafka start}'s ({@code -Dsluice.kafka.bootstrap}, 127.0.0.1:9092 by default);
 * PostgreSQL is the local server ({@code -Dsluice.bench.postgres.url}), started with {@code pg_ctlcluster} if down.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@State(Scope.Benchmark)
public class KafkaJobBenchmark {

    static final int RECORDS = 16_000;
    static final int PARTITIONS = 12;
    static final int USERS = 5_000;
    static final int CONCURRENCY = 8;
    static final int BATCH = 100;
    private static final int MAX_BUFFERED = 500;
    private static final int MAX_POLL_RECORDS = 200;
    private static final int LINK = 128;
    private static final Duration COMMIT_INTERVAL = Duration.ofMillis(200);
    private static final Duration BATCH_WAIT = Duration.ofMillis(50);
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);

    private BenchTopic topic;
    private UserEvents.Table table;
    /** The consumer group of the coming invocation: a new one each time. */
    private String group;

    @Setup
    public void setUp() throws Exception {
        table = UserEvents.Table.create();
        try {
            topic = BenchTopic.create(
                    PARTITIONS,
                    RECORDS,
                    i -> Event.of(i, USERS).userId().getBytes(StandardCharsets.UTF_8),
                    i -> Event.of(i, USERS).value().getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            try {
                table.close();
            } catch (Exception dropFailed) {
                e.addSuppressed(dropFailed);
            }
            throw e;
        }
    }

    @TearDown
    public void tearDown() throws Exception {
        try {
            topic.close();
        } finally {
            table.close();
        }
    }

    @Setup(Level.Invocation)
    public void newGroupAndEmptyTable() throws Exception {
        group = "bench-job-" + UUID.randomUUID();
        table.clear();
    }

    @TearDown(Level.Invocation)
    public void checkStoredAndCommitted() throws Exception {
        table.checkEveryEventOnce(RECORDS);
        long committed = topic.committed(group);
        if (committed != RECORDS) {
            throw new IllegalStateException(
                    "group " + group + " committed offsets summing to " + committed + ", expected " + RECORDS);
        }
    }

    /** The job's source and pipeline, stopped gracefully once every record is stored. */
    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long sluiceJob() throws Exception {
        AtomicLong stored = new AtomicLong();
        CountDownLatch allStored = new CountDownLatch(1);
        KafkaSource<String, String> events = KafkaSource.builder(new StringDeserializer(), new StringDeserializer())
                .bootstrapServers(topic.bootstrapServers())
                .groupId(group)
                .topics(topic.name())
                .property(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer")
                .maxBuffered(MAX_BUFFERED)
                .property(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, MAX_POLL_RECORDS)
                .commitInterval(COMMIT_INTERVAL)
                .build();
        PipelineHandle<Long> job = Pipeline.from(events)
                .buffer(LINK)
                .pipelineName("kafka-job-benchmark")
                .mapConcurrentByKey(
                        CONCURRENCY, ConsumerRecord::key, record -> UserEvents.enrich(Event.parse(record.value())))
                .named("enrich")
                .buffer(LINK)
                .batch(BATCH, BATCH_WAIT)
                .buffer(2)
                .to(Sink.<List<Enriched>>forEach(batch -> {
                            table.upsert(batch);
                            if (stored.addAndGet(batch.size()) >= RECORDS) {
                                allStored.countDown();
                            }
                        })
                        .named("upsert"))
                .start();
        while (!allStored.await(100, TimeUnit.MILLISECONDS)) {
            if (job.isDone()) {
                job.await(); // throws what failed it
                throw new IllegalStateException("the job ended with " + stored.get() + " of " + RECORDS + " stored");
            }
        }
        job.stop(STOP_GRACE);
        job.await();
        return check(stored.get());
    }

    /** A plain poll loop: poll, enrich on a pool of {@value #CONCURRENCY} threads, upsert in batches, commit. */
    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long plainLoop() throws Exception {
        Map<String, Object> config = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                topic.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG,
                group,
                ConsumerConfig.GROUP_PROTOCOL_CONFIG,
                "consumer",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                MAX_POLL_RECORDS);
        long stored = 0;
        try (KafkaConsumer<String, String> consumer =
                        new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer());
                ExecutorService calls = Executors.newFixedThreadPool(CONCURRENCY)) {
            consumer.subscribe(List.of(topic.name()));
            while (stored < RECORDS) {
                ConsumerRecords<String, String> polled = consumer.poll(Duration.ofMillis(100));
                if (polled.isEmpty()) {
                    continue;
                }
                List<Enriched> enriched = enrichByUser(polled, calls);
                for (int from = 0; from < enriched.size(); from += BATCH) {
                    table.upsert(enriched.subList(from, Math.min(from + BATCH, enriched.size())));
                }
                consumer.commitSync();
                stored += enriched.size();
            }
        }
        return check(stored);
    }

    /** The polled records enriched, one task per user on {@code calls}, each user's records in order. */
    private static List<Enriched> enrichByUser(ConsumerRecords<String, String> polled, ExecutorService calls)
            throws Exception {
        Map<String, List<ConsumerRecord<String, String>>> byUser = new LinkedHashMap<>();
        for (ConsumerRecord<String, String> record : polled) {
            byUser.computeIfAbsent(record.key(), user -> new ArrayList<>()).add(record);
        }
        List<Callable<List<Enriched>>> tasks = new ArrayList<>(byUser.size());
        for (List<ConsumerRecord<String, String>> records : byUser.values()) {
            tasks.add(() -> {
                List<Enriched> out = new ArrayList<>(records.size());
                for (ConsumerRecord<String, String> record : records) {
                    out.add(UserEvents.enrich(Event.parse(record.value())));
                }
                return out;
            });
        }
        List<Enriched> enriched = new ArrayList<>(polled.count());
        for (Future<List<Enriched>> done : calls.invokeAll(tasks)) {
            enriched.addAll(done.get());
        }
        return enriched;
    }

    private static long check(long stored) {
        if (stored != RECORDS) {
            throw new IllegalStateException("stored " + stored + " records, expected " + RECORDS);
        }
        return stored;
    }
}
