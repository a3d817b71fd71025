package dev.sluice.pipeline.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A test can run a Kafka consumer in a JVM of its own, and a child never outlives the JVM that started it. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ChildJvmTest {

    private static final Duration PATIENCE = Duration.ofSeconds(120);

    @Test
    void aConsumerInAJvmOfItsOwnConsumesEveryRecordOfATopic() throws Exception {
        // given
        KafkaBroker broker = KafkaBroker.shared();
        String topic = "child-" + UUID.randomUUID();
        String group = topic + "-group";
        broker.createTopic(topic, 12);
        int count = 500;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
                new StringSerializer(),
                new StringSerializer())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, "key-" + i, Integer.toString(i))));
            }
            for (Future<RecordMetadata> send : sent) {
                send.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            }
        }

        // when
        ChildJvm child = ChildJvm.builder(CountingConsumer.class)
                .jvmArgs("-Xmx128m")
                .args(broker.bootstrapServers(), topic, group, Integer.toString(count))
                .start();
        int exitCode = child.waitFor(PATIENCE);

        // then
        assertThat(exitCode).as(child.outputTail(30)).isZero();
        assertThat(child.outputLines()).contains("consumed " + count + " distinct records");
        Map<TopicPartition, OffsetAndMetadata> committed = broker.admin()
                .listConsumerGroupOffsets(Map.of(group, new ListConsumerGroupOffsetsSpec()))
                .partitionsToOffsetAndMetadata(group)
                .get();
        assertThat(committed.values().stream()
                        .mapToLong(OffsetAndMetadata::offset)
                        .sum())
                .isEqualTo(count);
    }

    @Test
    void aChildHaltsWhenTheJvmThatStartedItIsKilled(@TempDir Path directory) throws Exception {
        // given a child that starts a grandchild
        ChildJvm child = ChildJvm.builder(StartsAChild.class)
                .jvmArgs("-Xmx64m")
                .args(directory.resolve("grandchild.out").toString())
                .output(directory.resolve("child.out"))
                .start();
        await("the grandchild's pid").atMost(PATIENCE).until(() -> grandchildPid(child) > 0);
        long grandchild = grandchildPid(child);
        assertThat(ProcessHandle.of(grandchild).filter(ProcessHandle::isAlive)).isPresent();

        // when the child is killed as kill -9 does: no shutdown hook of its runs
        child.kill();

        // then
        await("the grandchild halts")
                .atMost(PATIENCE)
                .until(() -> ProcessHandle.of(grandchild)
                        .filter(ProcessHandle::isAlive)
                        .isEmpty());
    }

    private static long grandchildPid(ChildJvm child) {
        return child.outputLines().stream()
                .filter(line -> line.startsWith("grandchild "))
                .mapToLong(line -> Long.parseLong(line.substring("grandchild ".length())))
                .findFirst()
                .orElse(-1);
    }

    /**
     * Consumes {@code <count>} distinct records of {@code <topic>} as a member of {@code <group>}, commits, and prints
     * how many it consumed. Arguments: {@code <bootstrap servers> <topic> <group> <count>}.
     */
    static final class CountingConsumer {
        public static void main(String[] args) {
            int count = Integer.parseInt(args[3]);
            Set<String> seen = new HashSet<>();
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(
                    Map.of(
                            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0],
                            ConsumerConfig.GROUP_ID_CONFIG, args[2],
                            ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer",
                            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"),
                    new StringDeserializer(),
                    new StringDeserializer())) {
                consumer.subscribe(List.of(args[1]));
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
                while (seen.size() < count && System.nanoTime() < deadline) {
                    for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                        seen.add(record.value());
                    }
                }
                consumer.commitSync();
            }
            System.out.println("consumed " + seen.size() + " distinct records");
            System.exit(seen.size() == count ? 0 : 1);
        }
    }

    /** Starts a child of its own (its output to {@code <file>}), prints {@code grandchild <pid>}, and waits forever. */
    static final class StartsAChild {
        public static void main(String[] args) throws Exception {
            ChildJvm grandchild = ChildJvm.builder(WaitsForever.class)
                    .jvmArgs("-Xmx32m")
                    .output(Path.of(args[0]))
                    .start();
            System.out.println("grandchild " + grandchild.pid());
            new CountDownLatch(1).await();
        }
    }

    /** Waits forever. */
    static final class WaitsForever {
        public static void main(String[] args) throws InterruptedException {
            new CountDownLatch(1).await();
        }
    }
}
