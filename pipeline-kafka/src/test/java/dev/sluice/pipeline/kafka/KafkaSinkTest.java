package dev.sluice.pipeline.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Source;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link KafkaSink} against a real broker. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class KafkaSinkTest {

    private final KafkaBroker broker = KafkaBroker.shared();

    @Test
    void writesEveryRecordOnceAndCountsThem() throws Exception {
        // given
        String topic = Topics.unique("sink");
        broker.createTopic(topic, 3);

        // when
        PipelineResult<Long> result;
        try (KafkaSink<String, String> sink = KafkaSink.builder(new StringSerializer(), new StringSerializer())
                .bootstrapServers(broker.bootstrapServers())
                .maxInFlight(50)
                .build()) {
            result = Pipeline.from(Source.range(0, 1_000))
                    .map(i -> new ProducerRecord<>(topic, "key-" + (i % 7), Long.toString(i)))
                    .to(sink.sink())
                    .run(Topics.PATIENCE);
        }

        // then
        assertThat(result.value()).isEqualTo(1_000);
        List<ConsumerRecord<byte[], byte[]>> written = Topics.readAll(broker, topic, 3, 1_000, Map.of());
        assertThat(written)
                .extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
                .hasSize(1_000)
                .doesNotHaveDuplicates();
    }

    @Test
    void aSendThatFailsFailsTheRunNamingTheTopic() {
        String topic = Topics.unique("no-such-topic");
        try (KafkaSink<String, String> sink = KafkaSink.builder(new StringSerializer(), new StringSerializer())
                .bootstrapServers(broker.bootstrapServers())
                .property(ProducerConfig.MAX_BLOCK_MS_CONFIG, 1_000)
                .build()) {
            assertThatThrownBy(() -> Pipeline.from(Source.of("a"))
                            .map(v -> new ProducerRecord<String, String>(topic, v))
                            .to(sink.sink())
                            .run(Topics.PATIENCE))
                    .isInstanceOf(PipelineFailedException.class)
                    .hasMessageContaining("failed in stage 'kafka'")
                    .cause()
                    .isInstanceOf(KafkaException.class)
                    .hasMessageContaining("sending a record to topic '" + topic + "' failed");
        }
    }
}
