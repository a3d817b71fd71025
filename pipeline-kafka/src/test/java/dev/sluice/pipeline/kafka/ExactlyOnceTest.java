package dev.sluice.pipeline.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Consume, process, produce with transactions: the output topic, read committed, holds each input record once. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ExactlyOnceTest {

    private static final Map<String, Object> READ_COMMITTED =
            Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");

    private final KafkaBroker broker = KafkaBroker.shared();

    @Test
    void outputAndOffsetsCommitTogether() throws Exception {
        // given
        String topic = Topics.unique("eos-in");
        String out = topic + ".out";
        String group = topic + "-group";
        broker.createTopic(topic, 4);
        broker.createTopic(out, 4);
        Topics.write(broker, topic, Topics.numbers(1_000), 20);

        // when
        try (KafkaSink<String, String> sink = KafkaSink.builder(new StringSerializer(), new StringSerializer())
                .bootstrapServers(broker.bootstrapServers())
                .transactionalId(topic + "-tx")
                .build()) {
            KafkaSource<String, String> source = KafkaSource.builder(new StringDeserializer(), new StringDeserializer())
                    .bootstrapServers(broker.bootstrapServers())
                    .groupId(group)
                    .topics(topic)
                    .commitInterval(Duration.ofMillis(100))
                    .exactlyOnce(sink)
                    .build();
            PipelineHandle<Long> run = Pipeline.from(source)
                    .map(r -> new ProducerRecord<>(out, r.key(), "out-" + r.value()))
                    .to(sink.sink())
                    .start();
            await().atMost(Topics.PATIENCE).until(() -> committedSum(group) == 1_000);
            run.stop(Duration.ofSeconds(10));
            run.await(Topics.PATIENCE);
        }

        // then
        List<String> values = values(Topics.readAll(broker, out, 4, 1_000, READ_COMMITTED));
        assertThat(values).hasSize(1_000).doesNotHaveDuplicates();
    }

    @Test
    void aMemberKilledMidRunLeavesEachRecordOnceInTheOutput(@TempDir Path dir) throws Exception {
        // given
        String topic = Topics.unique("eos-kill");
        String out = topic + ".out";
        String group = topic + "-group";
        broker.createTopic(topic, 12);
        broker.createTopic(out, 12);
        int count = 3_000;
        Topics.write(broker, topic, Topics.numbers(count), 60);
        List<ChildJvm> members = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                members.add(ChildJvm.builder(GroupMemberMain.class)
                        .jvmArgs("-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
                        .args(
                                broker.bootstrapServers(),
                                topic,
                                group,
                                dir.resolve("m" + i).toString(),
                                "consumer",
                                "10",
                                out,
                                topic + "-tx-" + i)
                        .output(dir.resolve("m" + i + ".log"))
                        .start());
            }

            // when one is killed once output is flowing
            await().atMost(Topics.PATIENCE).until(() -> committedSum(group) >= count / 4);
            members.get(1).kill();

            // then the others finish the topic
            await().atMost(Topics.PATIENCE).until(() -> committedSum(group) == count);
        } finally {
            for (ChildJvm member : members) {
                member.stop(Duration.ofSeconds(20));
            }
        }
        List<String> values = values(Topics.readAll(broker, out, 12, count, READ_COMMITTED));
        assertThat(values).hasSize(count).doesNotHaveDuplicates();
    }

    private long committedSum(String group) throws Exception {
        return Topics.committed(broker, group).values().stream()
                .mapToLong(Long::longValue)
                .sum();
    }

    private static List<String> values(List<ConsumerRecord<byte[], byte[]>> records) {
        List<String> values = new ArrayList<>();
        records.forEach(r -> values.add(new String(r.value(), StandardCharsets.UTF_8)));
        return values;
    }
}
