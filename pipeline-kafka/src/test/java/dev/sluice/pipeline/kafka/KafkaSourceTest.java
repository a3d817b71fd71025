package dev.sluice.pipeline.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.ErrorPolicy;
import dev.sluice.pipeline.Outcome;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineCancelledException;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.Sink;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link KafkaSource} against a real broker: reading, backpressure without leaving the group, bad input. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class KafkaSourceTest {

    private static final Duration PATIENCE = Topics.PATIENCE;

    private final KafkaBroker broker = KafkaBroker.shared();

    @Test
    void readsEveryRecordOfEveryPartitionInOrderPerPartition() throws Exception {
        // given
        String topic = Topics.unique("read");
        broker.createTopic(topic, 4);
        Topics.write(broker, topic, Topics.numbers(2_000), 40);
        Queue<ConsumerRecord<String, String>> received = new ConcurrentLinkedQueue<>();

        // when
        PipelineHandle<Long> run = Pipeline.from(source(topic, topic + "-group").build())
                .to(Sink.forEach(received::add))
                .start();
        await().atMost(PATIENCE).until(() -> received.size() >= 2_000);
        run.stop(Duration.ofSeconds(10));
        run.await(PATIENCE);

        // then
        assertThat(received).hasSize(2_000);
        Map<Integer, List<Long>> offsets = new HashMap<>();
        for (ConsumerRecord<String, String> r : received) {
            offsets.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(r.offset());
        }
        assertThat(offsets).hasSize(4);
        offsets.values().forEach(list -> assertThat(list).isSorted().doesNotHaveDuplicates());
        assertThat(received.stream().map(ConsumerRecord::value).distinct()).hasSize(2_000);
    }

    @Test
    void aSinkSlowerThanMaxPollIntervalCausesNoRebalanceNoDuplicateAndABoundedHandOver() throws Exception {
        // given a sink that takes 14 s for the topic, with max.poll.interval.ms at 10 s
        String topic = Topics.unique("slow");
        broker.createTopic(topic, 2);
        int count = 350;
        Topics.write(broker, topic, Topics.numbers(count), 10);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        KafkaSource<String, String> source = source(topic, topic + "-group")
                .property(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 10_000)
                .property(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 20)
                .maxBuffered(40)
                .drainTimeout(Duration.ofSeconds(5))
                .build();
        Queue<String> received = new ConcurrentLinkedQueue<>();

        // when
        PipelineHandle<Long> run = Pipeline.from(source)
                .buffer(4)
                .pipelineName(topic)
                .meterRegistry(registry)
                .to(Sink.forEach((ConsumerRecord<String, String> r) -> {
                    Thread.sleep(40);
                    received.add(r.value());
                }))
                .start();
        await().atMost(PATIENCE).until(() -> received.size() >= count);
        run.stop(Duration.ofSeconds(10));
        run.await(PATIENCE);

        // then
        assertThat(received).hasSize(count).doesNotHaveDuplicates();
        assertThat(registry.get(KafkaMeters.REBALANCES)
                        .tag("kind", "assigned")
                        .counter()
                        .count())
                .isEqualTo(1);
        assertThat(registry.find(KafkaMeters.REBALANCES).tag("kind", "lost").counter())
                .isNull();
        assertThat(registry.get(KafkaMeters.PAUSES).counter().count()).isPositive();
        assertThat(source.peakBuffered()).isBetween(1, 40 + 20);
    }

    @Test
    void aCancelledRunDoesNotWaitOutTheDrainTimeoutAndCommitsWhatFinished() throws Exception {
        // given a drain timeout of a minute, and a sink that holds record 80 until it is interrupted
        String topic = Topics.unique("cancel");
        String group = topic + "-group";
        broker.createTopic(topic, 1);
        Topics.write(broker, topic, Topics.numbers(200), 1);
        CountDownLatch never = new CountDownLatch(1);
        CountDownLatch holding = new CountDownLatch(1);
        KafkaSource<String, String> source =
                source(topic, group).drainTimeout(Duration.ofMinutes(1)).build();
        PipelineHandle<Long> run = Pipeline.from(source)
                .to(Sink.forEach((ConsumerRecord<String, String> r) -> {
                    if (r.offset() == 80) {
                        holding.countDown();
                        never.await();
                    }
                }))
                .start();
        assertThat(holding.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();

        // when
        long cancelled = System.nanoTime();
        run.cancel();
        assertThatThrownBy(() -> run.await(Duration.ofSeconds(20))).isInstanceOf(PipelineCancelledException.class);
        long tookMillis = (System.nanoTime() - cancelled) / 1_000_000;

        // then: over well before the drain timeout, the 80 finished records committed, the held one not
        assertThat(tookMillis).isLessThan(15_000);
        assertThat(Topics.committed(broker, group).values()).containsExactly(80L);
    }

    @Test
    void aCommitIntervalAndAConnectTimeoutMeantAsNeverAreTakenSoAndAStopStillCommits() throws Exception {
        // given durations too long to count in nanoseconds, as "never" is often written
        String topic = Topics.unique("forever");
        String group = topic + "-group";
        broker.createTopic(topic, 1);
        Topics.write(broker, topic, Topics.numbers(100), 1);
        Queue<String> received = new ConcurrentLinkedQueue<>();
        KafkaSource<String, String> source = source(topic, group)
                .commitInterval(Duration.ofMillis(Long.MAX_VALUE))
                .connectTimeout(java.time.temporal.ChronoUnit.FOREVER.getDuration())
                .build();

        // when
        PipelineHandle<Long> run = Pipeline.from(source)
                .to(Sink.forEach((ConsumerRecord<String, String> r) -> received.add(r.value())))
                .start();
        await().atMost(PATIENCE).until(() -> received.size() >= 100);
        run.stop(Duration.ofSeconds(10));

        // then: the stop committed everything
        assertThat(run.await(PATIENCE).outcome()).isEqualTo(Outcome.STOPPED);
        assertThat(Topics.committed(broker, group).values()).containsExactly(100L);
    }

    @Test
    void onlyFinishedRecordsAreCommittedAndAStopCommitsEverythingFinished() throws Exception {
        // given a sink that holds record 50 of partition 0 until released
        String topic = Topics.unique("commit");
        String group = topic + "-group";
        broker.createTopic(topic, 1);
        Topics.write(broker, topic, Topics.numbers(200), 1);
        CountDownLatch release = new CountDownLatch(1);
        Queue<String> received = new ConcurrentLinkedQueue<>();
        KafkaSource<String, String> source =
                source(topic, group).commitInterval(Duration.ofMillis(100)).build();

        // when
        PipelineHandle<Long> run = Pipeline.from(source)
                .mapConcurrent(4, r -> {
                    if (r.offset() == 50) {
                        release.await();
                    }
                    return r;
                })
                .to(Sink.forEach((ConsumerRecord<String, String> r) -> received.add(r.value())))
                .start();

        // then the commit stops at the record in progress
        await().atMost(PATIENCE)
                .until(() -> Topics.committed(broker, group).values().contains(50L));
        assertThat(Topics.committed(broker, group).values()).containsExactly(50L);
        release.countDown();
        await().atMost(PATIENCE).until(() -> received.size() >= 200);
        run.stop(Duration.ofSeconds(10));
        run.await(PATIENCE);
        assertThat(Topics.committed(broker, group).values()).containsExactly(200L);
    }

    @Test
    void aStopWhileTheSourceWaitsOnAFullPipelineLetsWhatIsInFlightFinishBeforeCommitting() throws Exception {
        // given a slow sink behind a small buffer: the source waits to emit
        String topic = Topics.unique("stop-backpressure");
        String group = topic + "-group";
        broker.createTopic(topic, 1);
        Topics.write(broker, topic, Topics.numbers(300), 1);
        AtomicLong processed = new AtomicLong();
        PipelineHandle<Long> run = Pipeline.from(source(topic, group)
                        .commitInterval(Duration.ofMinutes(1))
                        .build())
                .buffer(8)
                .to(Sink.forEach((ConsumerRecord<String, String> r) -> {
                    Thread.sleep(20);
                    processed.incrementAndGet();
                }))
                .start();
        await().atMost(PATIENCE).until(() -> processed.get() >= 10);

        // when
        run.stop(Duration.ofSeconds(60));
        run.await(PATIENCE);

        // then every record the sink finished is committed: the stop waited for those in flight
        assertThat(processed.get()).isLessThan(300);
        assertThat(Topics.committed(broker, group).values()).containsExactly(processed.get());
    }

    @Test
    void mapConcurrentByKeyKeepsEachKeysOrderUnderRandomDelaysAndEveryOffsetIsCommitted() throws Exception {
        // given
        String topic = Topics.unique("by-key");
        String group = topic + "-group";
        broker.createTopic(topic, 4);
        int count = 2_000;
        Topics.write(broker, topic, Topics.numbers(count), 50);
        Queue<ConsumerRecord<String, String>> received = new ConcurrentLinkedQueue<>();

        // when
        PipelineHandle<Long> run = Pipeline.from(source(topic, group)
                        .commitInterval(Duration.ofMillis(100))
                        .build())
                .mapConcurrentByKey(8, ConsumerRecord::key, r -> {
                    Thread.sleep(
                            java.util.concurrent.ThreadLocalRandom.current().nextInt(3));
                    return r;
                })
                .to(Sink.forEach(received::add))
                .start();
        await().atMost(PATIENCE).until(() -> received.size() >= count);
        await("every offset committed")
                .atMost(PATIENCE)
                .until(() -> Topics.committed(broker, group).values().stream()
                                .mapToLong(Long::longValue)
                                .sum()
                        == count);
        run.stop(Duration.ofSeconds(10));
        run.await(PATIENCE);

        // then
        Map<String, Integer> last = new HashMap<>();
        for (ConsumerRecord<String, String> r : received) {
            int value = Integer.parseInt(r.value());
            Integer before = last.put(r.key(), value);
            assertThat(before == null || before < value)
                    .as("key %s: %s after %s", r.key(), value, before)
                    .isTrue();
        }
        assertThat(received).hasSize(count);
    }

    @Test
    void lagIsAGaugePerAssignedPartition() throws Exception {
        // given
        String topic = Topics.unique("lag");
        broker.createTopic(topic, 2);
        Topics.write(broker, topic, Topics.numbers(200), 10);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Queue<String> received = new ConcurrentLinkedQueue<>();

        // when
        PipelineHandle<Long> run = Pipeline.from(source(topic, topic + "-group").build())
                .pipelineName(topic)
                .meterRegistry(registry)
                .to(Sink.forEach((ConsumerRecord<String, String> r) -> received.add(r.value())))
                .start();

        // then
        await().atMost(PATIENCE).untilAsserted(() -> {
            assertThat(received).hasSize(200);
            assertThat(registry.find(KafkaMeters.LAG).gauges()).hasSize(2);
            assertThat(registry.find(KafkaMeters.LAG).gauges())
                    .allSatisfy(g -> assertThat(g.value()).isZero());
        });
        run.stop(Duration.ofSeconds(10));
        run.await(PATIENCE);
        assertThat(registry.find(KafkaMeters.LAG).gauges()).isEmpty();
    }

    @Test
    void unreachableBootstrapServersFailTheRunWithAClearMessageWithinTheConnectTimeout() {
        // given a port nothing listens on
        KafkaSource<String, String> source = KafkaSource.builder(new StringDeserializer(), new StringDeserializer())
                .bootstrapServers("127.0.0.1:1")
                .groupId("nobody")
                .topics("nothing")
                .connectTimeout(Duration.ofSeconds(2))
                .build();
        long started = System.nanoTime();

        // when / then
        assertThatThrownBy(() -> Pipeline.from(source).to(Sink.count()).run(PATIENCE))
                .isInstanceOf(PipelineFailedException.class)
                .cause()
                .isInstanceOf(KafkaSourceException.class)
                .hasMessageContaining("could not be reached at 127.0.0.1:1 within PT2S");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));
    }

    @Test
    void aMissingTopicIsAClearError() {
        String topic = Topics.unique("missing");
        assertThatThrownBy(() -> Pipeline.from(source(topic, topic).build())
                        .to(Sink.count())
                        .run(PATIENCE))
                .isInstanceOf(PipelineFailedException.class)
                .cause()
                .isInstanceOf(KafkaSourceException.class)
                .hasMessageContaining("topic '" + topic + "' does not exist on " + broker.bootstrapServers());
    }

    @Test
    void anUndeserialisableRecordFailsTheRunByDefaultNamingItsPartitionAndOffset() throws Exception {
        String topic = Topics.unique("poison-fail");
        broker.createTopic(topic, 1);
        Topics.write(broker, topic, List.of("1", "2", "poison", "4"), 1);

        assertThatThrownBy(() -> Pipeline.from(poisonable(topic).build())
                        .to(Sink.count())
                        .run(PATIENCE))
                .isInstanceOf(PipelineFailedException.class)
                .cause()
                .isInstanceOf(KafkaSourceException.class)
                .hasMessageContaining("the record at " + topic + "-0@2 could not be deserialised");
    }

    @Test
    void anUndeserialisableRecordIsSkippedUnderTheSkipPolicy() throws Exception {
        // given
        String topic = Topics.unique("poison-skip");
        broker.createTopic(topic, 1);
        Topics.write(broker, topic, List.of("1", "2", "poison", "4"), 1);
        Queue<String> received = new ConcurrentLinkedQueue<>();

        // when
        PipelineHandle<Long> run = Pipeline.from(poisonable(topic)
                        .onDeserializationError(ErrorPolicy.skip())
                        .build())
                .to(Sink.forEach((ConsumerRecord<String, String> r) -> received.add(r.value())))
                .start();
        await().atMost(PATIENCE).until(() -> received.size() >= 3);
        run.stop(Duration.ofSeconds(10));
        run.await(PATIENCE);

        // then
        assertThat(received).containsExactly("1", "2", "4");
    }

    @Test
    void anUndeserialisableRecordSkippedAtTheEndOfAPartitionIsCommittedPast() throws Exception {
        // given
        String topic = Topics.unique("poison-last");
        broker.createTopic(topic, 1);
        Topics.write(broker, topic, List.of("1", "2", "poison"), 1);
        Queue<String> received = new ConcurrentLinkedQueue<>();

        // when
        PipelineHandle<Long> run = Pipeline.from(poisonable(topic)
                        .onDeserializationError(ErrorPolicy.skip())
                        .commitInterval(Duration.ofMillis(100))
                        .build())
                .to(Sink.forEach((ConsumerRecord<String, String> r) -> received.add(r.value())))
                .start();

        // then the committed offset passes it, so a restart does not read it again
        await().atMost(PATIENCE)
                .until(() -> Topics.committed(broker, topic).values().contains(3L));
        run.stop(Duration.ofSeconds(10));
        run.await(PATIENCE);
        assertThat(received).containsExactly("1", "2");
    }

    @Test
    void anUndeserialisableRecordGoesToTheDeadLetterTopicWithTheErrorInHeaders() throws Exception {
        // given
        String topic = Topics.unique("poison-dlt");
        String deadLetters = topic + ".dlt";
        broker.createTopic(topic, 1);
        broker.createTopic(deadLetters, 1);
        Topics.write(broker, topic, List.of("1", "poison", "3"), 1);
        Queue<String> received = new ConcurrentLinkedQueue<>();

        // when
        try (KafkaDeadLetterTopic dlt = KafkaDeadLetterTopic.create(broker.bootstrapServers(), deadLetters, Map.of())) {
            PipelineHandle<Long> run = Pipeline.from(poisonable(topic)
                            .onDeserializationError(ErrorPolicy.deadLetter(dlt))
                            .build())
                    .to(Sink.forEach((ConsumerRecord<String, String> r) -> received.add(r.value())))
                    .start();
            await().atMost(PATIENCE).until(() -> received.size() >= 2);
            run.stop(Duration.ofSeconds(10));
            run.await(PATIENCE);
        }

        // then
        assertThat(received).containsExactly("1", "3");
        List<ConsumerRecord<byte[], byte[]>> dead = Topics.readAll(broker, deadLetters, 1, 1, Map.of());
        assertThat(dead).hasSize(1);
        ConsumerRecord<byte[], byte[]> letter = dead.get(0);
        assertThat(new String(letter.value(), StandardCharsets.UTF_8)).isEqualTo("poison");
        assertThat(new String(letter.key(), StandardCharsets.UTF_8)).isEqualTo("key-0");
        assertThat(header(letter, KafkaDeadLetterTopic.ERROR_CLASS)).isEqualTo(SerializationException.class.getName());
        assertThat(header(letter, KafkaDeadLetterTopic.ERROR_MESSAGE)).isEqualTo("poison at offset");
        assertThat(header(letter, KafkaDeadLetterTopic.ORIGINAL_TOPIC)).isEqualTo(topic);
        assertThat(header(letter, KafkaDeadLetterTopic.ORIGINAL_PARTITION)).isEqualTo("0");
        assertThat(header(letter, KafkaDeadLetterTopic.ORIGINAL_OFFSET)).isEqualTo("1");
        assertThat(header(letter, KafkaDeadLetterTopic.STAGE)).isEqualTo("source");
    }

    @Test
    void aDeadLetterTopicTakesItemsAStageFailedOn() throws Exception {
        // given
        String topic = Topics.unique("stage-dlt");
        String deadLetters = topic + ".dlt";
        broker.createTopic(topic, 1);
        broker.createTopic(deadLetters, 1);
        Topics.write(broker, topic, List.of("1", "x", "3"), 1);
        Queue<Integer> received = new ConcurrentLinkedQueue<>();

        // when
        try (KafkaDeadLetterTopic dlt = KafkaDeadLetterTopic.create(broker.bootstrapServers(), deadLetters, Map.of())) {
            PipelineHandle<Long> run = Pipeline.from(source(topic, topic).build())
                    .map(r -> r)
                    .peek(r -> Integer.parseInt(r.value()))
                    .named("parse")
                    .onError(ErrorPolicy.deadLetter(dlt))
                    .map(r -> Integer.parseInt(r.value()))
                    .to(Sink.forEach(received::add))
                    .start();
            await().atMost(PATIENCE).until(() -> received.size() >= 2);
            run.stop(Duration.ofSeconds(10));
            run.await(PATIENCE);
        }

        // then
        ConsumerRecord<byte[], byte[]> letter =
                Topics.readAll(broker, deadLetters, 1, 1, Map.of()).get(0);
        assertThat(new String(letter.value(), StandardCharsets.UTF_8)).isEqualTo("x");
        assertThat(header(letter, KafkaDeadLetterTopic.STAGE)).isEqualTo("parse");
        assertThat(header(letter, KafkaDeadLetterTopic.ERROR_CLASS)).isEqualTo(NumberFormatException.class.getName());
        assertThat(header(letter, KafkaDeadLetterTopic.ORIGINAL_OFFSET)).isEqualTo("1");
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    private KafkaSource.Builder<String, String> source(String topic, String group) {
        return KafkaSource.builder(new StringDeserializer(), new StringDeserializer())
                .bootstrapServers(broker.bootstrapServers())
                .groupId(group)
                .topics(topic);
    }

    /** A source whose value deserialiser fails on the value "poison". */
    private KafkaSource.Builder<String, String> poisonable(String topic) {
        Deserializer<String> values = (t, data) -> {
            String value = new String(data, StandardCharsets.UTF_8);
            if (value.equals("poison")) {
                throw new SerializationException("poison at offset");
            }
            return value;
        };
        return KafkaSource.builder(new StringDeserializer(), values)
                .bootstrapServers(broker.bootstrapServers())
                .groupId(topic)
                .topics(topic);
    }

    static <T> HashSet<T> distinct(Iterable<T> items) {
        HashSet<T> set = new HashSet<>();
        items.forEach(set::add);
        return set;
    }
}
