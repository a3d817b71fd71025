package dev.sluice.pipeline.kafka;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** Bad options of the Kafka builders fail at once, naming the option, the value and the rule. */
class KafkaOptionsTest {

    private static KafkaSource.Builder<String, String> source() {
        return KafkaSource.builder(new StringDeserializer(), new StringDeserializer())
                .bootstrapServers("127.0.0.1:9092")
                .groupId("g")
                .topics("t");
    }

    @Test
    void blankBootstrapServersAreRefused() {
        assertThatThrownBy(() -> source().bootstrapServers(" "))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("bootstrapServers must not be blank, got ' '");
    }

    @Test
    void noTopicIsRefused() {
        assertThatThrownBy(() -> source().topics())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("topics must name at least one topic, got none");
        assertThatThrownBy(() -> source().topics("a", ""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("topics[1] must not be blank, got ''");
    }

    @Test
    void aMissingGroupIdIsNamed() {
        assertThatThrownBy(() -> KafkaSource.builder(new StringDeserializer(), new StringDeserializer())
                        .bootstrapServers("127.0.0.1:9092")
                        .topics("t")
                        .build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("groupId must be set before build(), got nothing");
    }

    @Test
    void settingsTheBuilderOwnsAreRefusedAsProperties() {
        assertThatThrownBy(() -> source().property(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "true"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("name must not be one of")
                .hasMessageEndingWith("got enable.auto.commit");
    }

    @Test
    void anInvalidConsumerSettingIsRefusedAtBuild() {
        assertThatThrownBy(() -> source().property(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "many")
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(
                        "property values must be valid Kafka consumer settings, got {max.poll.records=many}")
                .hasMessageContaining("max.poll.records");
    }

    @Test
    void theDrainTimeoutMustBeBelowMaxPollInterval() {
        assertThatThrownBy(() -> source().property(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 10_000)
                        .drainTimeout(Duration.ofSeconds(10))
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("drainTimeout must be below max.poll.interval.ms (10000 ms), since revoked partitions"
                        + " drain inside a poll, got PT10S");
        // a drain timeout meant as "never" is refused the same way, not with an arithmetic overflow
        assertThatThrownBy(() -> source().drainTimeout(java.time.temporal.ChronoUnit.FOREVER.getDuration())
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("drainTimeout must be below max.poll.interval.ms");
    }

    @Test
    void sizesAndDurationsAreChecked() {
        assertThatThrownBy(() -> source().maxBuffered(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxBuffered must be at least 1, got 0");
        assertThatThrownBy(() -> source().commitInterval(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("commitInterval must be positive, got PT0S");
        assertThatThrownBy(() -> source().connectTimeout(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("connectTimeout must not be null");
    }

    @Test
    void theSinkRefusesToTurnIdempotenceOffAndChecksItsSettings() {
        KafkaSink.Builder<String, String> sink = KafkaSink.builder(new StringSerializer(), new StringSerializer())
                .bootstrapServers("127.0.0.1:9092");
        assertThatThrownBy(() -> sink.property(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageEndingWith("got enable.idempotence");
        assertThatThrownBy(() -> sink.maxInFlight(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxInFlight must be at least 1, got 0");
        assertThatThrownBy(() ->
                        sink.property(ProducerConfig.LINGER_MS_CONFIG, "soon").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("property values must be valid Kafka producer settings");
    }
}
