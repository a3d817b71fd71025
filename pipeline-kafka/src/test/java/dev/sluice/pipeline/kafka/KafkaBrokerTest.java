package dev.sluice.pipeline.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The test broker is a real Kafka 4 broker: records go through it, and both group protocols hand out partitions. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class KafkaBrokerTest {

    private static final int PARTITIONS = 12;
    private static final Duration PATIENCE = Duration.ofSeconds(90);

    private final KafkaBroker broker = KafkaBroker.shared();

    @Test
    void recordsProducedOnTwelvePartitionsAreConsumedOnceInOrderPerPartition() throws Exception {
        // given
        String topic = topic("records");
        broker.createTopic(topic, PARTITIONS);
        int count = 1_200;

        // when
        try (KafkaProducer<String, String> producer = producer()) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, "key-" + (i % 40), Integer.toString(i))));
            }
            for (Future<RecordMetadata> send : sent) {
                send.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            }
        }
        Map<Integer, List<ConsumerRecord<String, String>>> byPartition = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = consumer(Map.of())) {
            consumer.assign(partitions(topic));
            consumer.seekToBeginning(partitions(topic));
            // A consumer is single-threaded: it is polled on this thread only.
            await().atMost(PATIENCE).pollInSameThread().until(() -> {
                consumer.poll(Duration.ofMillis(200))
                        .forEach(r -> byPartition
                                .computeIfAbsent(r.partition(), p -> new ArrayList<>())
                                .add(r));
                return byPartition.values().stream().mapToInt(List::size).sum() >= count;
            });
        }

        // then
        assertThat(byPartition).hasSize(PARTITIONS);
        Set<String> values = new HashSet<>();
        for (List<ConsumerRecord<String, String>> records : byPartition.values()) {
            for (int i = 0; i < records.size(); i++) {
                assertThat(records.get(i).offset()).isEqualTo(i);
                values.add(records.get(i).value());
            }
            assertThat(records)
                    .extracting(ConsumerRecord::value)
                    .isSortedAccordingTo((a, b) -> Integer.compare(Integer.parseInt(a), Integer.parseInt(b)));
        }
        assertThat(values).hasSize(count);
    }

    @Test
    void membersOfTheConsumerGroupProtocolShareTheTopicsPartitions() throws Exception {
        // given
        String topic = topic("consumer-protocol");
        String group = topic + "-group";
        broker.createTopic(topic, PARTITIONS);
        Map<String, Object> protocol = Map.of(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");

        // when
        try (GroupMember first = GroupMember.start(consumer(group, protocol), topic);
                GroupMember second = GroupMember.start(consumer(group, protocol), topic)) {

            // then
            awaitSharedAssignment(first, second);
            ConsumerGroupDescription description = describe(group);
            assertThat(description.type()).isEqualTo(GroupType.CONSUMER);
            assertThat(description.members()).hasSize(2);
        }
    }

    @Test
    void membersOfTheClassicProtocolWithTheCooperativeStickyAssignorShareTheTopicsPartitions() throws Exception {
        // given
        String topic = topic("classic-protocol");
        String group = topic + "-group";
        broker.createTopic(topic, PARTITIONS);
        Map<String, Object> protocol = Map.of(
                ConsumerConfig.GROUP_PROTOCOL_CONFIG,
                "classic",
                ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                CooperativeStickyAssignor.class.getName());

        // when
        try (GroupMember first = GroupMember.start(consumer(group, protocol), topic);
                GroupMember second = GroupMember.start(consumer(group, protocol), topic)) {

            // then
            awaitSharedAssignment(first, second);
            ConsumerGroupDescription description = describe(group);
            assertThat(description.type()).isEqualTo(GroupType.CLASSIC);
            assertThat(description.partitionAssignor())
                    .isEqualTo(CooperativeStickyAssignor.COOPERATIVE_STICKY_ASSIGNOR_NAME);
            assertThat(description.members()).hasSize(2);
        }
    }

    @Test
    void aStoppedBrokerIsGoneAndItsPortRefusesConnections() throws Exception {
        // given
        KafkaBroker own = KafkaBroker.start();
        InetSocketAddress address = address(own.bootstrapServers());
        long pid = own.pid();
        assertThat(connects(address)).isTrue();

        // when
        own.stop();

        // then
        assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).isEmpty();
        assertThatThrownBy(() -> {
                    try (Socket socket = new Socket()) {
                        socket.connect(address, 2_000);
                    }
                })
                .isInstanceOf(ConnectException.class);
        assertThat(own.logFile()).doesNotExist();
    }

    @Test
    void aBrokerThatCannotStartFailsWithTheEndOfItsLog() {
        // when / then
        assertThatThrownBy(() -> KafkaBroker.start(Map.of("num.io.threads", "none")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("exited while starting")
                .hasMessageContaining("num.io.threads");
    }

    private static void awaitSharedAssignment(GroupMember first, GroupMember second) {
        await("both members hold partitions, all " + PARTITIONS + " of them, none twice")
                .atMost(PATIENCE)
                .untilAsserted(() -> {
                    Set<TopicPartition> a = first.assignment();
                    Set<TopicPartition> b = second.assignment();
                    assertThat(a).isNotEmpty();
                    assertThat(b).isNotEmpty().doesNotContainAnyElementsOf(a);
                    assertThat(a.size() + b.size()).isEqualTo(PARTITIONS);
                });
        assertThat(first.failure()).isNull();
        assertThat(second.failure()).isNull();
    }

    private ConsumerGroupDescription describe(String group) throws ExecutionException, InterruptedException {
        return broker.admin().describeConsumerGroups(List.of(group)).all().get().get(group);
    }

    private static String topic(String name) {
        return name + "-" + UUID.randomUUID();
    }

    private static List<TopicPartition> partitions(String topic) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            partitions.add(new TopicPartition(topic, p));
        }
        return partitions;
    }

    private KafkaProducer<String, String> producer() {
        return new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
                new StringSerializer(),
                new StringSerializer());
    }

    private KafkaConsumer<String, String> consumer(Map<String, Object> settings) {
        Map<String, Object> config = new HashMap<>(settings);
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        return new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer());
    }

    private KafkaConsumer<String, String> consumer(String group, Map<String, Object> settings) {
        Map<String, Object> config = new HashMap<>(settings);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return consumer(config);
    }

    private static InetSocketAddress address(String bootstrapServers) {
        int colon = bootstrapServers.lastIndexOf(':');
        return new InetSocketAddress(
                bootstrapServers.substring(0, colon), Integer.parseInt(bootstrapServers.substring(colon + 1)));
    }

    private static boolean connects(InetSocketAddress address) {
        try (Socket socket = new Socket()) {
            socket.connect(address, 2_000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A consumer polling on a thread of its own (a consumer is single-threaded), publishing its assignment. */
    private static final class GroupMember implements AutoCloseable {
        private final KafkaConsumer<String, String> consumer;
        private final AtomicReference<Set<TopicPartition>> assignment = new AtomicReference<>(Set.of());
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final AtomicBoolean closing = new AtomicBoolean();
        private final Thread thread;

        private GroupMember(KafkaConsumer<String, String> consumer, String topic) {
            this.consumer = consumer;
            this.thread = Thread.ofPlatform().name("group-member").start(() -> run(topic));
        }

        static GroupMember start(KafkaConsumer<String, String> consumer, String topic) {
            return new GroupMember(consumer, topic);
        }

        Set<TopicPartition> assignment() {
            return assignment.get();
        }

        Throwable failure() {
            return failure.get();
        }

        private void run(String topic) {
            try (KafkaConsumer<String, String> polling = consumer) {
                polling.subscribe(List.of(topic));
                while (!closing.get()) {
                    polling.poll(Duration.ofMillis(100));
                    assignment.set(Set.copyOf(polling.assignment()));
                }
            } catch (WakeupException expected) {
                // close() woke the poll
            } catch (Throwable t) {
                failure.set(t);
            }
        }

        @Override
        public void close() throws InterruptedException {
            closing.set(true);
            consumer.wakeup();
            thread.join(PATIENCE.toMillis());
        }
    }
}
