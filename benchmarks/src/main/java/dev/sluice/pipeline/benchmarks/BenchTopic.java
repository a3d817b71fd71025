package dev.sluice.pipeline.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A topic of a Kafka benchmark's own on the external broker ({@code -Dsluice.kafka.bootstrap}, 127.0.0.1:9092 by
 * default; {@code scripts/kafka start} runs one): created with a random name, filled once, deleted by {@link #close}.
 * Its records are written before anything is measured, and the broker's group coordinator is settled then too.
 */
final class BenchTopic implements AutoCloseable {

    static final Duration PATIENCE = Duration.ofSeconds(120);

    private final String bootstrap;
    private final String name;
    private final Admin admin;

    private BenchTopic(String bootstrap, String name, Admin admin) {
        this.bootstrap = bootstrap;
        this.name = name;
        this.admin = admin;
    }

    /** The broker's address: {@code -Dsluice.kafka.bootstrap}, or 127.0.0.1:9092. */
    static String bootstrap() {
        return System.getProperty("sluice.kafka.bootstrap", "127.0.0.1:9092");
    }

    /**
     * Creates a topic {@code bench-<random>} of {@code partitions} partitions and writes {@code records} records to it,
     * record {@code i} with the key and value the functions give for {@code i} (the default partitioner places it by
     * its key); returns once the broker has acknowledged every one and its group coordinator is settled.
     */
    static BenchTopic create(int partitions, int records, IntFunction<byte[]> key, IntFunction<byte[]> value)
            throws Exception {
        String bootstrap = bootstrap();
        Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
        BenchTopic topic = new BenchTopic(bootstrap, "bench-" + UUID.randomUUID(), admin);
        try {
            admin.createTopics(List.of(new NewTopic(topic.name, partitions, (short) 1)))
                    .all()
                    .get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            topic.fill(records, key, value);
            topic.settleGroupCoordinator();
            return topic;
        } catch (Exception e) {
            try {
                topic.close(); // deletes the topic if it was made, and closes the admin client
            } catch (Exception notMadeOrUnreachable) {
                e.addSuppressed(notMadeOrUnreachable);
            }
            throw e;
        }
    }

    String bootstrapServers() {
        return bootstrap;
    }

    String name() {
        return name;
    }

    private void fill(int records, IntFunction<byte[]> key, IntFunction<byte[]> value) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.LINGER_MS_CONFIG, 5),
                new ByteArraySerializer(),
                new ByteArraySerializer())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < records; i++) {
                sent.add(producer.send(new ProducerRecord<>(name, key.apply(i), value.apply(i))));
            }
            for (Future<RecordMetadata> s : sent) {
                s.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            }
        }
    }

    /**
     * Makes the broker create its offsets topic and elect the group coordinator before anything is measured: the
     * first group commit on a new broker takes seconds, and must not fall on whichever benchmark runs first.
     */
    private void settleGroupCoordinator() {
        TopicPartition first = new TopicPartition(name, 0);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        bootstrap,
                        ConsumerConfig.GROUP_ID_CONFIG,
                        "bench-settle-" + UUID.randomUUID(),
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                        false),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.assign(List.of(first));
            consumer.commitSync(Map.of(first, new OffsetAndMetadata(0)), PATIENCE);
        }
    }

    /** The sum over this topic's partitions of the offsets {@code group} has committed (0 where it has none). */
    long committed(String group) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata()
                .get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        long sum = 0;
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
            if (e.getKey().topic().equals(name) && e.getValue() != null) {
                sum += e.getValue().offset();
            }
        }
        return sum;
    }

    /** Deletes the topic. */
    @Override
    public void close() throws Exception {
        try {
            admin.deleteTopics(List.of(name)).all().get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        } finally {
            admin.close();
        }
    }
}
