package dev.sluice.pipeline.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Test helpers around a broker: unique topic names, writing records, reading a whole topic back. */
final class Topics {

    static final Duration PATIENCE = Duration.ofSeconds(120);

    private Topics() {}

    /** A topic name no other test uses. */
    static String unique(String name) {
        return name + "-" + UUID.randomUUID();
    }

    /** Writes {@code values} to {@code topic}, each keyed {@code key-(i % keys)}, and waits for every write. */
    static void write(KafkaBroker broker, String topic, List<String> values, int keys) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(
                Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        broker.bootstrapServers(),
                        ProducerConfig.LINGER_MS_CONFIG,
                        5),
                new StringSerializer(),
                new StringSerializer())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < values.size(); i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, "key-" + (i % keys), values.get(i))));
            }
            for (Future<RecordMetadata> send : sent) {
                send.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            }
        }
    }

    /** Writes {@code count} records, valued "0" to "count - 1", to one partition of {@code topic}; waits for each. */
    static void writeTo(KafkaBroker broker, String topic, int partition, int count) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
                new StringSerializer(),
                new StringSerializer())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                sent.add(
                        producer.send(new ProducerRecord<>(topic, partition, "key-" + partition, Integer.toString(i))));
            }
            for (Future<RecordMetadata> send : sent) {
                send.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            }
        }
    }

    /** The values "0" to "count - 1". */
    static List<String> numbers(int count) {
        List<String> values = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            values.add(Integer.toString(i));
        }
        return values;
    }

    /** Every record of every partition of {@code topic}, read until {@code expected} are there. */
    static List<ConsumerRecord<byte[], byte[]>> readAll(
            KafkaBroker broker, String topic, int partitions, int expected, Map<String, Object> settings) {
        Map<String, Object> config = new HashMap<>(settings);
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        List<TopicPartition> all = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            all.add(new TopicPartition(topic, p));
        }
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(all);
            consumer.seekToBeginning(all);
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while (records.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            // A little more, to see records beyond those expected.
            consumer.poll(Duration.ofMillis(500)).forEach(records::add);
        }
        return records;
    }

    /** The committed offsets of {@code group}, per partition. */
    static Map<TopicPartition, Long> committed(KafkaBroker broker, String group) throws Exception {
        Map<TopicPartition, Long> offsets = new HashMap<>();
        broker.admin()
                .listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata()
                .get(PATIENCE.toSeconds(), TimeUnit.SECONDS)
                .forEach((tp, o) -> {
                    if (o != null) {
                        offsets.put(tp, o.offset());
                    }
                });
        return offsets;
    }
}
