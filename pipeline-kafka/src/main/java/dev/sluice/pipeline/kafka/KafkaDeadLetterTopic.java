package dev.sluice.pipeline.kafka;

import dev.sluice.pipeline.CheckedConsumer;
import dev.sluice.pipeline.DeadLetter;
import dev.sluice.pipeline.internal.check.Require;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A dead-letter handler that writes each failed item to a Kafka topic with the error in its headers: give it to
 * {@link dev.sluice.pipeline.ErrorPolicy#deadLetter} on any stage, or to
 * {@link KafkaSource.Builder#onDeserializationError} for records that cannot be deserialised.
 *
 * <pre>{@code
 * try (KafkaDeadLetterTopic poison = KafkaDeadLetterTopic.create("127.0.0.1:9092", "user-events.dlt", Map.of())) {
 *     Pipeline.from(events)
 *             .map(record -> parse(record.value()))
 *             .onError(ErrorPolicy.deadLetter(poison))
 *             .to(sink)
 *             .run();
 * }
 * }</pre>
 *
 * <p>What is written: if the failed item is a {@link ConsumerRecord} (what a {@link KafkaSource} emits), its key,
 * value and headers, with headers naming where it came from; otherwise the item itself as the value, with no key.
 * Keys and values that are {@code byte[]} are written as they are, anything else as the UTF-8 bytes of its
 * {@code toString()}. Added headers: {@value #STAGE}, {@value #ERROR_CLASS}, {@value #ERROR_MESSAGE},
 * {@value #ERROR_STACK_TRACE}, and for a record {@value #ORIGINAL_TOPIC}, {@value #ORIGINAL_PARTITION},
 * {@value #ORIGINAL_OFFSET} (decimal text).
 *
 * <p>{@link #accept} returns only when the broker has acknowledged the write (idempotent producer, {@code acks=all}),
 * so an item acknowledged as dead-lettered is in the topic; a write that fails throws, which fails the run.
 * Thread-safe; {@link #close()} closes the producer.
 *
 * <p>Incubating: may change in a minor release.
 *
 * @since 0.1
 */
public final class KafkaDeadLetterTopic implements CheckedConsumer<DeadLetter>, AutoCloseable {

    /**
     * Header: the name of the stage that failed.
     *
     * @since 0.1
     */
    public static final String STAGE = "sluice.dlt.stage";
    /**
     * Header: the class name of the error.
     *
     * @since 0.1
     */
    public static final String ERROR_CLASS = "sluice.dlt.error.class";
    /**
     * Header: the error's message (absent if it has none).
     *
     * @since 0.1
     */
    public static final String ERROR_MESSAGE = "sluice.dlt.error.message";
    /**
     * Header: the error's stack trace, cut to 8 KiB.
     *
     * @since 0.1
     */
    public static final String ERROR_STACK_TRACE = "sluice.dlt.error.stacktrace";
    /**
     * Header: the topic the failed record was read from.
     *
     * @since 0.1
     */
    public static final String ORIGINAL_TOPIC = "sluice.dlt.original.topic";
    /**
     * Header: the partition the failed record was read from.
     *
     * @since 0.1
     */
    public static final String ORIGINAL_PARTITION = "sluice.dlt.original.partition";
    /**
     * Header: the offset of the failed record.
     *
     * @since 0.1
     */
    public static final String ORIGINAL_OFFSET = "sluice.dlt.original.offset";

    private static final int STACK_TRACE_LIMIT = 8 * 1024;

    private final Producer<byte[], byte[]> producer;
    private final String topic;

    private KafkaDeadLetterTopic(Producer<byte[], byte[]> producer, String topic) {
        this.producer = producer;
        this.topic = topic;
    }

    /**
     * A handler writing to {@code topic}, with a producer of its own.
     *
     * @param bootstrapServers where the producer first connects
     * @param topic the dead-letter topic; it must exist when the first item is written
     * @param producerProperties further producer settings (idempotence and {@code acks=all} are always on)
     * @return the handler; close it when done
     * @throws IllegalArgumentException if {@code bootstrapServers} or {@code topic} is blank, or the settings are not
     *     valid producer settings
     * @since 0.1
     */
    public static KafkaDeadLetterTopic create(
            String bootstrapServers, String topic, Map<String, Object> producerProperties) {
        Require.notBlank(bootstrapServers, "bootstrapServers");
        Require.notBlank(topic, "topic");
        Require.nonNull(producerProperties, "producerProperties");
        return new KafkaDeadLetterTopic(
                new KafkaProducer<>(
                        KafkaSink.producerProperties(bootstrapServers, producerProperties),
                        new ByteArraySerializer(),
                        new ByteArraySerializer()),
                topic);
    }

    /**
     * Writes the failed item to the topic and waits for the broker's acknowledgement.
     *
     * @param deadLetter the item, the error and the stage
     * @throws KafkaException if the write fails
     * @throws InterruptedException if the calling thread is interrupted while waiting
     * @since 0.1
     */
    @Override
    public void accept(DeadLetter deadLetter) throws InterruptedException {
        Headers headers = new RecordHeaders();
        byte[] key = null;
        byte[] value;
        if (deadLetter.item() instanceof ConsumerRecord<?, ?> record) {
            record.headers().forEach(headers::add);
            key = bytes(record.key());
            value = bytes(record.value());
            header(headers, ORIGINAL_TOPIC, record.topic());
            header(headers, ORIGINAL_PARTITION, Integer.toString(record.partition()));
            header(headers, ORIGINAL_OFFSET, Long.toString(record.offset()));
        } else {
            value = bytes(deadLetter.item());
        }
        Throwable error = deadLetter.error();
        header(headers, STAGE, deadLetter.stage());
        header(headers, ERROR_CLASS, error.getClass().getName());
        if (error.getMessage() != null) {
            header(headers, ERROR_MESSAGE, error.getMessage());
        }
        header(headers, ERROR_STACK_TRACE, stackTrace(error));
        try {
            producer.send(new ProducerRecord<>(topic, null, key, value, headers))
                    .get();
        } catch (ExecutionException e) {
            throw new KafkaException(
                    "writing a dead letter of stage '" + deadLetter.stage() + "' to topic '" + topic + "' failed: "
                            + e.getCause(),
                    e.getCause());
        }
    }

    /**
     * Closes the producer, waiting up to 30 s for writes in progress. Idempotent.
     *
     * @since 0.1
     */
    @Override
    public void close() {
        producer.close(Duration.ofSeconds(30));
    }

    @Override
    public String toString() {
        return "KafkaDeadLetterTopic[" + topic + "]";
    }

    private static byte[] bytes(Object o) {
        if (o == null) {
            return null;
        }
        return o instanceof byte[] b ? b : o.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void header(Headers headers, String name, String value) {
        headers.remove(name);
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }

    private static String stackTrace(Throwable error) {
        StringWriter out = new StringWriter();
        error.printStackTrace(new PrintWriter(out));
        String trace = out.toString();
        return trace.length() <= STACK_TRACE_LIMIT ? trace : trace.substring(0, STACK_TRACE_LIMIT);
    }
}
