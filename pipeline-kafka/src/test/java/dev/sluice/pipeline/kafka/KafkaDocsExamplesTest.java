package dev.sluice.pipeline.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.ErrorPolicy;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.Sink;
import java.time.Duration;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The examples of docs/kafka.md, token for token, run against the test broker. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class KafkaDocsExamplesTest {

    private final KafkaBroker broker = KafkaBroker.shared();
    private final Queue<String> upserted = new ConcurrentLinkedQueue<>();

    @Test
    void theConsumerJob() throws Exception {
        String bootstrapServers = broker.bootstrapServers();
        String topic = Topics.unique("user-events");
        broker.createTopic(topic, 3);
        broker.createTopic(topic + ".dlt", 1);
        Topics.write(broker, topic, Topics.numbers(100), 10);

        try (KafkaDeadLetterTopic poison = KafkaDeadLetterTopic.create(bootstrapServers, topic + ".dlt", Map.of())) {
            KafkaSource<String, String> events = KafkaSource.builder(new StringDeserializer(), new StringDeserializer())
                    .bootstrapServers(bootstrapServers)
                    .groupId(topic + "-job")
                    .topics(topic)
                    .onDeserializationError(ErrorPolicy.deadLetter(poison))
                    .build();
            PipelineHandle<Long> job = Pipeline.from(events)
                    .pipelineName("user-events-job")
                    .mapConcurrent(16, record -> enrich(record))
                    .onError(ErrorPolicy.deadLetter(poison))
                    .to(Sink.forEach(event -> upsert(event)))
                    .start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> job.stop(Duration.ofSeconds(30))));

            await().atMost(Topics.PATIENCE).until(() -> upserted.size() >= 100);
            job.stop(Duration.ofSeconds(30));
            job.await();
        }
        assertThat(upserted).hasSize(100);
    }

    @Test
    void theExactlyOnceJob() throws Exception {
        String bootstrapServers = broker.bootstrapServers();
        String topic = Topics.unique("payments");
        broker.createTopic(topic, 2);
        broker.createTopic(topic + ".enriched", 2);
        Topics.write(broker, topic, Topics.numbers(50), 5);

        try (KafkaSink<String, String> output = KafkaSink.builder(new StringSerializer(), new StringSerializer())
                .bootstrapServers(bootstrapServers)
                .transactionalId("payments-job-" + instance())
                .build()) {
            KafkaSource<String, String> payments = KafkaSource.builder(
                            new StringDeserializer(), new StringDeserializer())
                    .bootstrapServers(bootstrapServers)
                    .groupId(topic + "-job")
                    .topics(topic)
                    .exactlyOnce(output)
                    .build();
            PipelineHandle<Long> job = Pipeline.from(payments)
                    .map(record -> new ProducerRecord<>(topic + ".enriched", record.key(), enrich(record)))
                    .to(output.sink())
                    .start();

            await().atMost(Topics.PATIENCE)
                    .until(() -> Topics.committed(broker, topic + "-job").values().stream()
                                    .mapToLong(Long::longValue)
                                    .sum()
                            == 50);
            job.stop(Duration.ofSeconds(30));
            job.await();
        }
    }

    private String instance() {
        return "0";
    }

    private static String enrich(ConsumerRecord<String, String> record) {
        return record.key() + ":" + record.value();
    }

    private void upsert(String event) {
        upserted.add(event);
    }
}
