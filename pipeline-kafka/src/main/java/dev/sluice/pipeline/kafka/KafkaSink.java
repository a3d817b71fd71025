package dev.sluice.pipeline.kafka;

import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.internal.check.Require;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes a pipeline's records to Kafka with one idempotent producer ({@code enable.idempotence=true},
 * {@code acks=all}): {@link #sink()} is the pipeline's sink.
 *
 * <pre>{@code
 * try (KafkaSink<String, String> out = KafkaSink.builder(new StringSerializer(), new StringSerializer())
 *         .bootstrapServers("127.0.0.1:9092")
 *         .build()) {
 *     Pipeline.from(events)
 *             .map(record -> new ProducerRecord<>("enriched", record.key(), enrich(record.value())))
 *             .to(out.sink())
 *             .run();
 * }
 * }</pre>
 *
 * <h2>Guarantees</h2>
 * The sink takes the records already waiting, up to {@link Builder#maxInFlight(int) maxInFlight} at a time, sends
 * them, and returns from the group only when the broker has acknowledged every one: so at most {@code maxInFlight}
 * records are unacknowledged at any time, and a record the sink has finished (what an acknowledging source commits)
 * is in Kafka. A send that fails (after the producer's own retries, within {@code delivery.timeout.ms}) fails the run
 * with a {@link KafkaException} naming the topic; records of the group sent before it may be in Kafka, so a replay
 * can write them twice (at-least-once; the idempotent producer removes only its own retries' duplicates).
 *
 * <p>Thread-safe: the producer is shared by every run of every pipeline this sink is used in, and closed by
 * {@link #close()}, after which a run using the sink fails.
 *
 * <p>Incubating: may change in a minor release.
 *
 * @param <K> the type of the record keys
 * @param <V> the type of the record values
 * @since 0.1
 */
public final class KafkaSink<K, V> implements AutoCloseable {

    private static final Set<String> SET_BY_BUILDER = Set.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            ProducerConfig.ACKS_CONFIG,
            ProducerConfig.TRANSACTIONAL_ID_CONFIG);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final Producer<K, V> producer;
    private final int maxInFlight;
    /** Null unless the sink is transactional. */
    private final Transactions transactions;

    private KafkaSink(Producer<K, V> producer, int maxInFlight, boolean transactional) {
        this.producer = producer;
        this.maxInFlight = maxInFlight;
        this.transactions = transactional ? new Transactions(producer) : null;
    }

    /**
     * Starts the options of a sink that writes keys and values with the given serialisers.
     *
     * @param keySerializer turns a key into bytes (it gets null for a null key)
     * @param valueSerializer turns a value into bytes
     * @param <K> the type of the record keys
     * @param <V> the type of the record values
     * @return a builder with the defaults described on each of its methods
     * @throws NullPointerException if a serialiser is null
     * @since 0.1
     */
    public static <K, V> Builder<K, V> builder(Serializer<K> keySerializer, Serializer<V> valueSerializer) {
        return new Builder<>(
                Require.nonNull(keySerializer, "keySerializer"), Require.nonNull(valueSerializer, "valueSerializer"));
    }

    /**
     * The pipeline sink that sends each record and waits for the broker's acknowledgement of each group (see the
     * class description). Its value is the number of records written; its stage is named {@code kafka}.
     *
     * @return a sink over this producer, usable in any number of pipelines and runs
     * @since 0.1
     */
    public Sink<ProducerRecord<K, V>, Long> sink() {
        return Sink.<ProducerRecord<K, V>>forEachBatch(maxInFlight, this::sendAll)
                .named("kafka");
    }

    /** The transactions of a transactional sink, or null. */
    Transactions transactions() {
        return transactions;
    }

    private void sendAll(List<ProducerRecord<K, V>> records) throws InterruptedException {
        if (transactions == null) {
            sendAndAwait(records);
            return;
        }
        transactions.lock().lockInterruptibly();
        try {
            transactions.beginGroup();
            sendAndAwait(records);
            transactions.endGroup();
        } finally {
            transactions.lock().unlock();
        }
    }

    /** Sends every record, then waits until the broker acknowledged each; the first failure is thrown. */
    private void sendAndAwait(List<ProducerRecord<K, V>> records) throws InterruptedException {
        List<Future<RecordMetadata>> sent = new ArrayList<>(records.size());
        for (ProducerRecord<K, V> record : records) {
            sent.add(producer.send(record));
        }
        for (int i = 0; i < sent.size(); i++) {
            try {
                sent.get(i).get();
            } catch (ExecutionException e) {
                throw new KafkaException(
                        "sending a record to topic '" + records.get(i).topic() + "' failed: " + e.getCause(),
                        e.getCause());
            }
        }
    }

    /**
     * Closes the producer, waiting up to 30 s for records still being sent. A run that uses the sink afterwards
     * fails. Idempotent.
     *
     * @since 0.1
     */
    @Override
    public void close() {
        producer.close(CLOSE_TIMEOUT);
    }

    @Override
    public String toString() {
        return "KafkaSink[maxInFlight " + maxInFlight + "]";
    }

    /**
     * The options of a {@link KafkaSink}. Each setter checks its argument at once; {@link #build()} checks that the
     * producer settings are valid. Not thread-safe.
     *
     * <p>Incubating: may change in a minor release.
     *
     * @param <K> the type of the record keys
     * @param <V> the type of the record values
     * @since 0.1
     */
    public static final class Builder<K, V> {
        private final Serializer<K> keySerializer;
        private final Serializer<V> valueSerializer;
        private String bootstrapServers;
        private final Map<String, Object> properties = new LinkedHashMap<>();
        private int maxInFlight = 1_000;
        private String transactionalId;

        private Builder(Serializer<K> keySerializer, Serializer<V> valueSerializer) {
            this.keySerializer = keySerializer;
            this.valueSerializer = valueSerializer;
        }

        /**
         * Where the producer first connects ({@code bootstrap.servers}). Required.
         *
         * @param servers {@code host:port} pairs, separated by commas
         * @return this builder
         * @throws IllegalArgumentException if {@code servers} is blank
         * @since 0.1
         */
        public Builder<K, V> bootstrapServers(String servers) {
            this.bootstrapServers = Require.notBlank(servers, "bootstrapServers");
            return this;
        }

        /**
         * A setting of the producer ({@link ProducerConfig}), such as {@code linger.ms}, {@code compression.type} or
         * {@code delivery.timeout.ms}. Idempotence and {@code acks=all} are always on; the servers and serialisers
         * are set with the builder's own methods.
         *
         * @param name the setting's name
         * @param value its value, as Kafka accepts it
         * @return this builder
         * @throws IllegalArgumentException if the setting is one the builder owns
         * @since 0.1
         */
        public Builder<K, V> property(String name, Object value) {
            BuilderSettings.put(
                    properties,
                    SET_BY_BUILDER,
                    "the builder sets them; idempotence and acks=all are always on",
                    name,
                    value);
            return this;
        }

        /**
         * The most records the sink has sent and the broker not yet acknowledged; also the largest group it sends
         * at once. Default 1,000.
         *
         * @param records at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code records < 1}
         * @since 0.1
         */
        public Builder<K, V> maxInFlight(int records) {
            this.maxInFlight = Require.atLeast(records, 1, "maxInFlight");
            return this;
        }

        /**
         * Makes the sink transactional, for a consume-process-produce job whose output and input offsets commit
         * together, exactly once within Kafka: pass the sink to {@link KafkaSource.Builder#exactlyOnce} as well.
         * The source's run then commits, at its commit interval, a transaction holding the records sent since the
         * last one and the offsets of the input records finished by then; records are sent only inside a
         * transaction. The transactional ID must be unique among the running copies of the job (a restarted copy
         * may reuse its ID, which fences its former self). A transactional sink serves one run at a time.
         * Consumers of the output topic read it with {@code isolation.level=read_committed}.
         *
         * <p>Exactly once needs the pipeline to keep the order of each partition's records up to the sink (every
         * operator does except {@code mapConcurrentUnordered}, and a per-key map whose keys split a partition); a
         * transaction waits while a later record of a partition has been written and an earlier one is unfinished.
         * It also needs one item per record at the sink: a {@code flatMap}'s items can be committed before their
         * record is finished, and written again when it is read again.
         *
         * <p>Records are committed only with the offsets of the source run they came from: what the sink writes
         * while no such run is attached (the tail of a run that ended before every record finished, or a pipeline
         * whose source is not {@code exactlyOnce} with this sink) is aborted at the end of each group.
         *
         * @param transactionalId the producer's {@code transactional.id}
         * @return this builder
         * @throws IllegalArgumentException if {@code transactionalId} is blank
         * @since 0.1
         */
        public Builder<K, V> transactionalId(String transactionalId) {
            this.transactionalId = Require.notBlank(transactionalId, "transactionalId");
            return this;
        }

        /**
         * The sink, with its producer (which connects when it first sends; a transactional one connects here, to
         * register its transactional ID).
         *
         * @return a sink with these options; close it when done
         * @throws IllegalStateException if the bootstrap servers are not set
         * @throws IllegalArgumentException if the producer settings are not valid Kafka settings
         * @since 0.1
         */
        public KafkaSink<K, V> build() {
            BuilderSettings.requireSet(bootstrapServers, "KafkaSink.Builder", "bootstrapServers");
            Map<String, Object> props = producerProperties(bootstrapServers, properties);
            if (transactionalId != null) {
                props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
            }
            KafkaProducer<K, V> producer = new KafkaProducer<>(props, keySerializer, valueSerializer);
            if (transactionalId != null) {
                try {
                    producer.initTransactions();
                } catch (RuntimeException e) {
                    producer.close(Duration.ZERO);
                    throw new KafkaException(
                            "registering transactional ID '" + transactionalId + "' at " + bootstrapServers
                                    + " failed: " + e,
                            e);
                }
            }
            return new KafkaSink<>(producer, maxInFlight, transactionalId != null);
        }
    }

    /** The settings of an idempotent producer, checked. */
    static Map<String, Object> producerProperties(String bootstrapServers, Map<String, Object> properties) {
        Map<String, Object> props = new HashMap<>(properties);
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        Map<String, Object> check = new HashMap<>(props);
        check.put(
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                org.apache.kafka.common.serialization.ByteArraySerializer.class);
        check.put(
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                org.apache.kafka.common.serialization.ByteArraySerializer.class);
        BuilderSettings.parse("producer", properties, () -> new ProducerConfig(check));
        return props;
    }
}
