package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.kafka.KafkaSource;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * Records per second through a {@link KafkaSource} (acknowledgements and offset commits on) into a counting sink,
 * against a plain {@link KafkaConsumer} poll loop that counts and commits, on the same broker, topic and machine in
 * the same run. Target: the source at least 0.9× the plain loop.
 *
 * <p>The broker is an external one: start it with {@code scripts/kafka start} and pass its address as
 * {@code -Dsluice.kafka.bootstrap=127.0.0.1:9092} (the default). Each fork writes a topic of its own ({@value #TOPIC_PARTITIONS}
 * partitions, {@value #RECORDS} records of 100 bytes) once; each invocation reads all of it from the start as a
 * new consumer group, so both sides pay one group join per invocation. Score: nanoseconds per record.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xms1g", "-Xmx1g", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@State(Scope.Benchmark)
public class KafkaSourceBenchmark {

    static final int RECORDS = 200_000;
    static final int TOPIC_PARTITIONS = 4;
    private BenchTopic topic;
    private String bootstrap;

    @Setup
    public void setUp() throws Exception {
        byte[] value = new byte[100];
        topic = BenchTopic.create(
                TOPIC_PARTITIONS, RECORDS, i -> Integer.toString(i).getBytes(), i -> value);
        bootstrap = topic.bootstrapServers();
    }

    @TearDown
    public void tearDown() throws Exception {
        topic.close();
    }

    /** {@code Pipeline.from(KafkaSource).take(RECORDS).to(Sink.count()).run()}, as a new group. */
    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long sluiceSource() throws InterruptedException {
        KafkaSource<byte[], byte[]> source = KafkaSource.builder(
                        new ByteArrayDeserializer(), new ByteArrayDeserializer())
                .bootstrapServers(bootstrap)
                .groupId("bench-" + UUID.randomUUID())
                .topics(topic.name())
                .build();
        long count = Pipeline.from(source).take(RECORDS).to(Sink.count()).run().value();
        return check(count);
    }

    /** A plain poll loop: subscribe, poll and count until every record is seen, commit, close; as a new group. */
    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long plainConsumer() {
        Map<String, Object> config = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG,
                "bench-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                false);
        long count = 0;
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic.name()));
            while (count < RECORDS) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                    if (record.value() != null) {
                        count++;
                    }
                }
            }
            consumer.commitSync();
        }
        return check(count);
    }

    private static long check(long count) {
        if (count != RECORDS) {
            throw new IllegalStateException("read " + count + " records, expected " + RECORDS);
        }
        return count;
    }
}
