package dev.sluice.pipeline.kafka;

import dev.sluice.pipeline.Acknowledgement;
import dev.sluice.pipeline.ChannelClosedException;
import dev.sluice.pipeline.DeadLetter;
import dev.sluice.pipeline.Disposition;
import dev.sluice.pipeline.Emitter;
import dev.sluice.pipeline.ErrorPolicy;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.StageContext;
import dev.sluice.pipeline.internal.check.Require;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A source of the records of Kafka topics, read by one consumer of a consumer group: several copies of a job (on
 * several machines) with the same group ID share the topics' partitions, and a copy that dies hands its partitions
 * to the others.
 *
 * <pre>{@code
 * KafkaSource<String, String> events = KafkaSource.builder(new StringDeserializer(), new StringDeserializer())
 *         .bootstrapServers("127.0.0.1:9092")
 *         .groupId("user-events-job")
 *         .topics("user-events")
 *         .build();
 * Pipeline.from(events)
 *         .mapConcurrent(16, record -> enrich(record.value()))
 *         .to(Sink.forEach(repository::upsert))
 *         .run();
 * }</pre>
 *
 * <h2>How it reads</h2>
 * Each run opens a consumer whose poll loop runs on a platform thread of its own; the source stage's thread
 * deserialises the records and emits them. When the pipeline is full the records pile up in a hand-over of at most
 * {@link Builder#maxBuffered(int) maxBuffered} records (plus one poll's worth, {@code max.poll.records}); then the
 * poll thread <em>pauses</em> its partitions and keeps polling, so the consumer stays in its group however slow the
 * pipeline is ({@code max.poll.interval.ms} is never overrun), and resumes them when half of that has been taken.
 * Memory: the pipeline's own bound plus the hand-over's.
 *
 * <h2>Offsets</h2>
 * Each record is emitted with an {@link Acknowledgement}, and a {@link dev.sluice.pipeline.PositionTracker} per
 * partition gives the lowest offset below which every record is finished (processed, filtered, skipped or
 * dead-lettered). Only that offset is committed: every {@link Builder#commitInterval(Duration) commitInterval}, when
 * partitions are revoked, and at the end of the run. So a copy of the job that dies replays, on the member that takes
 * its partitions, at most what it had in flight: at-least-once with a bounded replay (effectively once with an
 * idempotent sink, such as an upsert). With {@link Builder#exactlyOnce} the offsets are committed in the sink's
 * transactions instead.
 *
 * <h2>Failure and stop</h2>
 * Kafka that cannot be reached within {@link Builder#connectTimeout(Duration) connectTimeout}, a topic that does not
 * exist, or a consumer that fails, fails the run with a {@link KafkaSourceException} that says so. A record whose
 * key or value cannot be deserialised follows {@link Builder#onDeserializationError(ErrorPolicy)}. When the run is
 * stopped (or ends in any way), the source takes no more records, gives those already emitted up to
 * {@link Builder#drainTimeout(Duration) drainTimeout} to finish (the interrupt by which a stop reaches the source
 * does not cut that short; the end of the stop's grace period, which aborts the run, does), commits what finished,
 * and closes the consumer, leaving its group, before {@code produce} returns; records fetched but not yet emitted are
 * dropped (the group reads them again). A run that fails, is cancelled or passes its deadline does not wait for what
 * is in flight (it will not be processed): what had finished is committed at once and the consumer closed.
 *
 * <h2>Rebalances</h2>
 * When partitions are revoked, their records not yet emitted are dropped and no more of them is emitted; those in
 * flight get up to the drain timeout to finish (inside the poll, which is why it must be below
 * {@code max.poll.interval.ms}); then what finished is committed, and the rest is left to the next owner. Lost
 * partitions are dropped without a commit (with {@link Builder#exactlyOnce}, the run fails if output of theirs was
 * not committed yet: see there). {@link Builder#onRebalance} tells a listener of each change, with the
 * offsets and the numbers of records dropped: one {@link KafkaRebalance} each.
 *
 * <p>A {@code KafkaSource} is immutable and may run any number of times, one consumer per run; concurrent runs
 * (several members of a group in one JVM) use the deserialisers concurrently, so they must then be thread-safe (the
 * ones Kafka ships are). Deserialisers are used as given: {@code configure} is not called.
 *
 * <p>Incubating: may change in a minor release.
 *
 * @param <K> the type of the record keys
 * @param <V> the type of the record values
 * @since 0.1
 */
public final class KafkaSource<K, V> implements Source<ConsumerRecord<K, V>> {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaSource.class);
    private static final int TAKE = 256;
    private static final Set<String> SET_BY_BUILDER = Set.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            ConsumerConfig.GROUP_ID_CONFIG,
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG);

    private final Deserializer<K> keyDeserializer;
    private final Deserializer<V> valueDeserializer;
    private final String bootstrapServers;
    private final List<String> topics;
    private final Map<String, Object> consumerProperties;
    private final int maxBuffered;
    private final Duration commitInterval;
    private final Duration drainTimeout;
    private final Duration connectTimeout;
    private final ErrorPolicy deserializationErrors;
    private final Transactions transactions;
    private final Consumer<? super KafkaRebalance> rebalanceListener;
    /** How a record the deserialisation error policy absorbed is acknowledged. */
    private final Disposition absorbed;
    /** The latest run's peak hand-over, for tests of the memory bound. */
    private volatile SourceRun lastRun;

    private KafkaSource(Builder<K, V> b, Map<String, Object> consumerProperties) {
        this.keyDeserializer = b.keyDeserializer;
        this.valueDeserializer = b.valueDeserializer;
        this.bootstrapServers = b.bootstrapServers;
        this.topics = List.copyOf(b.topics);
        this.consumerProperties = Map.copyOf(consumerProperties);
        this.maxBuffered = b.maxBuffered;
        this.commitInterval = b.commitInterval;
        this.drainTimeout = b.drainTimeout;
        this.connectTimeout = b.connectTimeout;
        this.deserializationErrors = b.deserializationErrors;
        this.transactions = b.exactlyOnce == null ? null : b.exactlyOnce.transactions();
        this.rebalanceListener = b.rebalanceListener;
        this.absorbed =
                b.deserializationErrors instanceof ErrorPolicy.Skip ? Disposition.SKIPPED : Disposition.DEAD_LETTERED;
    }

    /**
     * Starts the options of a source whose records' keys and values are read with the given deserialisers.
     *
     * @param keyDeserializer turns a record's key bytes into a key (it gets null for a null key)
     * @param valueDeserializer turns a record's value bytes into a value (it gets null for a tombstone)
     * @param <K> the type of the record keys
     * @param <V> the type of the record values
     * @return a builder with the defaults described on each of its methods
     * @throws NullPointerException if a deserialiser is null
     * @since 0.1
     */
    public static <K, V> Builder<K, V> builder(Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer) {
        return new Builder<>(
                Require.nonNull(keyDeserializer, "keyDeserializer"),
                Require.nonNull(valueDeserializer, "valueDeserializer"));
    }

    /**
     * Reads the topics until the run is stopped or cancelled, emitting each record. Runs on the source stage's
     * thread; the consumer runs on a thread of its own, which has ended (its consumer closed) when this returns.
     *
     * @param emitter where the records go
     * @throws KafkaSourceException if Kafka cannot be reached in time, a topic does not exist, the consumer fails,
     *     or a record cannot be deserialised under the fail policy
     * @throws InterruptedException if the run is stopped or cancelled
     * @throws Exception if a dead-letter handler of {@link Builder#onDeserializationError} throws
     * @since 0.1
     */
    @Override
    public void produce(Emitter<ConsumerRecord<K, V>> emitter) throws Exception {
        StageContext context = emitter.context();
        SourceRun run = new SourceRun(
                this,
                context.pipelineName(),
                context.correlationId(),
                KafkaMeters.of(context.meterRegistry(), context.pipelineName()),
                context::isAborting);
        lastRun = run;
        run.start();
        boolean nothingWillFinish = false;
        try {
            for (; ; ) {
                List<Intake.Fetched> taken = run.intake().take(TAKE);
                if (taken.isEmpty()) {
                    return;
                }
                run.tookRecords();
                for (Intake.Fetched fetched : taken) {
                    Acknowledgement ack =
                            fetched.partition().admit(fetched.record().offset());
                    if (ack == null) {
                        continue; // its partition was revoked: its next owner reads it
                    }
                    ConsumerRecord<K, V> record;
                    try {
                        record = deserialize(fetched.record(), context);
                    } catch (Exception | Error e) {
                        ack.done(Disposition.FAILED);
                        throw e;
                    }
                    if (record == null) {
                        ack.done(absorbed); // skipped or dead-lettered: finished
                        continue;
                    }
                    emitter.emit(record, ack);
                }
            }
        } catch (InterruptedException e) {
            // An emit refused because the pipeline takes no more items (aborting, or finished early downstream):
            // what is in flight will not finish. A graceful stop's refusal has no such cause.
            nothingWillFinish = e.getCause() instanceof ChannelClosedException;
            throw e;
        } finally {
            run.close(nothingWillFinish);
        }
    }

    /**
     * The record with its key and value deserialised; or null if it could not be and the policy absorbed it (skipped,
     * or written to a dead-letter handler that returned), in which case it is acknowledged as {@code absorbed}.
     */
    private ConsumerRecord<K, V> deserialize(ConsumerRecord<byte[], byte[]> raw, StageContext context)
            throws Exception {
        K key;
        V value;
        try {
            key = raw.key() == null ? null : keyDeserializer.deserialize(raw.topic(), raw.headers(), raw.key());
            value = raw.value() == null ? null : valueDeserializer.deserialize(raw.topic(), raw.headers(), raw.value());
        } catch (RuntimeException e) {
            String where = raw.topic() + "-" + raw.partition() + "@" + raw.offset();
            switch (deserializationErrors) {
                case ErrorPolicy.Fail fail ->
                    throw new KafkaSourceException(
                            "the record at " + where + " could not be deserialised (the source's error policy is fail;"
                                    + " see KafkaSource.Builder.onDeserializationError): " + e,
                            e);
                case ErrorPolicy.Skip skip ->
                    LOG.warn(
                            "pipeline '{}': skipped the record at {}, which could not be deserialised: {}",
                            context.pipelineName(),
                            where,
                            e.toString());
                case ErrorPolicy.ToDeadLetter toDeadLetter ->
                    toDeadLetter.handler().accept(new DeadLetter(context.stageName(), raw, e));
            }
            return null;
        }
        return new ConsumerRecord<>(
                raw.topic(),
                raw.partition(),
                raw.offset(),
                raw.timestamp(),
                raw.timestampType(),
                raw.serializedKeySize(),
                raw.serializedValueSize(),
                key,
                value,
                raw.headers(),
                raw.leaderEpoch());
    }

    /** The most records the latest run's hand-over held at once; for tests. */
    int peakBuffered() {
        SourceRun run = lastRun;
        return run == null ? 0 : run.peakBuffered();
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    List<String> topics() {
        return topics;
    }

    String groupId() {
        return (String) consumerProperties.get(ConsumerConfig.GROUP_ID_CONFIG);
    }

    Map<String, Object> consumerProperties() {
        return consumerProperties;
    }

    int maxBuffered() {
        return maxBuffered;
    }

    Duration commitInterval() {
        return commitInterval;
    }

    Duration drainTimeout() {
        return drainTimeout;
    }

    Duration connectTimeout() {
        return connectTimeout;
    }

    Transactions transactions() {
        return transactions;
    }

    Consumer<? super KafkaRebalance> rebalanceListener() {
        return rebalanceListener;
    }

    @Override
    public String toString() {
        return "KafkaSource" + topics + "@" + bootstrapServers + " group "
                + consumerProperties.get(ConsumerConfig.GROUP_ID_CONFIG);
    }

    /**
     * The options of a {@link KafkaSource}. Each setter checks its argument at once (a clear
     * {@link IllegalArgumentException} or {@link NullPointerException} naming it, its value and the rule); {@link
     * #build()} checks that the options hold together. Not thread-safe.
     *
     * <p>Incubating: may change in a minor release.
     *
     * @param <K> the type of the record keys
     * @param <V> the type of the record values
     * @since 0.1
     */
    public static final class Builder<K, V> {
        private final Deserializer<K> keyDeserializer;
        private final Deserializer<V> valueDeserializer;
        private String bootstrapServers;
        private String groupId;
        private final List<String> topics = new ArrayList<>();
        private final Map<String, Object> properties = new LinkedHashMap<>();
        private int maxBuffered = 1_000;
        private Duration commitInterval = Duration.ofSeconds(1);
        private Duration drainTimeout = Duration.ofSeconds(10);
        private Duration connectTimeout = Duration.ofSeconds(30);
        private ErrorPolicy deserializationErrors = ErrorPolicy.fail();
        private KafkaSink<?, ?> exactlyOnce;
        private Consumer<? super KafkaRebalance> rebalanceListener = rebalance -> {};

        private Builder(Deserializer<K> keyDeserializer, Deserializer<V> valueDeserializer) {
            this.keyDeserializer = keyDeserializer;
            this.valueDeserializer = valueDeserializer;
        }

        /**
         * Where the consumer first connects ({@code bootstrap.servers}). Required.
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
         * The consumer group ({@code group.id}): the copies of a job that share the topics' partitions, and under
         * which the offsets are committed. Required.
         *
         * @param groupId the group's ID
         * @return this builder
         * @throws IllegalArgumentException if {@code groupId} is blank
         * @since 0.1
         */
        public Builder<K, V> groupId(String groupId) {
            this.groupId = Require.notBlank(groupId, "groupId");
            return this;
        }

        /**
         * The topics to read, replacing any given before. Required; each must exist when a run starts.
         *
         * @param names one topic name or more
         * @return this builder
         * @throws IllegalArgumentException if there is none, or one is blank
         * @since 0.1
         */
        public Builder<K, V> topics(String... names) {
            Require.nonNull(names, "topics");
            Require.argument(names.length > 0, "topics", "name at least one topic", "none");
            List<String> checked = new ArrayList<>();
            for (int i = 0; i < names.length; i++) {
                checked.add(Require.notBlank(names[i], "topics[" + i + "]"));
            }
            topics.clear();
            topics.addAll(checked);
            return this;
        }

        /**
         * A setting of the consumer ({@link ConsumerConfig}), such as {@code max.poll.interval.ms},
         * {@code group.protocol} or {@code partition.assignment.strategy}. {@code auto.offset.reset} is
         * {@code earliest} unless set here (a new group reads the topics from their start). The settings the builder
         * owns ({@code bootstrap.servers}, {@code group.id}, the deserialisers) are set with its own methods, and
         * {@code enable.auto.commit} is always false: the source commits itself.
         *
         * @param name the setting's name
         * @param value its value, as Kafka accepts it (a string, or a number, class or list)
         * @return this builder
         * @throws IllegalArgumentException if the setting is one the builder owns
         * @since 0.1
         */
        public Builder<K, V> property(String name, Object value) {
            BuilderSettings.put(
                    properties,
                    SET_BY_BUILDER,
                    "bootstrapServers(...), groupId(...) and the deserialisers of builder(...) set them; the source"
                            + " commits itself",
                    name,
                    value);
            return this;
        }

        /**
         * The most records fetched and not yet emitted that the source holds before it pauses its partitions (it
         * resumes them at half of that). Default 1,000.
         *
         * @param records at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code records < 1}
         * @since 0.1
         */
        public Builder<K, V> maxBuffered(int records) {
            this.maxBuffered = Require.atLeast(records, 1, "maxBuffered");
            return this;
        }

        /**
         * How often the offsets of finished records are committed. Default 1 s.
         *
         * @param interval positive
         * @return this builder
         * @throws IllegalArgumentException if {@code interval} is not positive
         * @since 0.1
         */
        public Builder<K, V> commitInterval(Duration interval) {
            this.commitInterval = Require.positive(interval, "commitInterval");
            return this;
        }

        /**
         * How long records already emitted may take to finish when their partitions are revoked, or the run ends,
         * before what finished is committed and the rest left to be read again. Must be below the consumer's
         * {@code max.poll.interval.ms}, since a revocation is handled inside a poll. Default 10 s.
         *
         * @param timeout positive
         * @return this builder
         * @throws IllegalArgumentException if {@code timeout} is not positive
         * @since 0.1
         */
        public Builder<K, V> drainTimeout(Duration timeout) {
            this.drainTimeout = Require.positive(timeout, "drainTimeout");
            return this;
        }

        /**
         * How long a run may wait for Kafka to answer at its start (to find the topics) before it fails. Default
         * 30 s.
         *
         * @param timeout positive
         * @return this builder
         * @throws IllegalArgumentException if {@code timeout} is not positive
         * @since 0.1
         */
        public Builder<K, V> connectTimeout(Duration timeout) {
            this.connectTimeout = Require.positive(timeout, "connectTimeout");
            return this;
        }

        /**
         * What to do with a record whose key or value the deserialisers fail on: {@link ErrorPolicy#fail()} (the
         * default) fails the run with a {@link KafkaSourceException} naming the record's topic, partition and offset;
         * {@link ErrorPolicy#skip()} logs it and goes on; {@link ErrorPolicy#deadLetter} hands the handler a
         * {@link DeadLetter} whose item is the raw {@code ConsumerRecord<byte[], byte[]>} (for example to a
         * {@link KafkaDeadLetterTopic}) and goes on. A handler that throws fails the run.
         *
         * @param policy the policy
         * @return this builder
         * @throws NullPointerException if {@code policy} is null
         * @since 0.1
         */
        public Builder<K, V> onDeserializationError(ErrorPolicy policy) {
            this.deserializationErrors = Require.nonNull(policy, "policy");
            return this;
        }

        /**
         * Commits the offsets of finished records in the transactions of {@code sink} instead of through the consumer,
         * together with the records the sink wrote: a consume-process-produce job whose output is exactly once within
         * Kafka (see {@link KafkaSink.Builder#transactionalId}). The consumer then reads with
         * {@code isolation.level=read_committed}. If records of revoked partitions cannot finish within the drain
         * timeout, the run fails rather than write their output twice; if partitions are lost (the member was no
         * longer in its group) while output of their records was not committed, the run fails with a
         * {@link KafkaSourceException} and the open transaction is aborted. At the end of a run, the last
         * transaction is committed if every emitted record finished within the drain timeout, and aborted
         * otherwise. Once a run has aborted a transaction it commits nothing more: what it writes after that is
         * aborted, and the group reads its input again.
         *
         * <p>An operator that makes several items of one record ({@code flatMap}) breaks exactly once: a transaction
         * may commit the items already written while the record is unfinished, so its offset is not committed with
         * them, and a replay of the record writes them again.
         *
         * @param sink a sink built with a transactional ID, used as the sink of the pipeline this source runs in
         * @return this builder
         * @throws IllegalArgumentException if {@code sink} is not transactional
         * @since 0.1
         */
        public Builder<K, V> exactlyOnce(KafkaSink<?, ?> sink) {
            Require.nonNull(sink, "sink");
            Require.argument(
                    sink.transactions() != null, "sink", "be transactional (KafkaSink.Builder.transactionalId)", sink);
            this.exactlyOnce = sink;
            return this;
        }

        /**
         * A listener told of each change a rebalance makes to a run's partitions (assigned, revoked, lost), once the
         * source has handled it: for a revocation, after the records in flight had their drain timeout and what
         * finished was committed. A run that ends reports the revocation of what it still held. For an audit trail
         * of the group's moves, or a log; replaces any listener given before (default none).
         *
         * <p>The listener runs on the run's poll thread, inside the consumer's poll: it must return quickly (a slow
         * one delays the poll, and {@code max.poll.interval.ms} counts it), and must not call the pipeline in ways
         * that wait for it. One listener serves every run of the source, concurrent runs too, so it must then be
         * thread-safe. An exception it throws is logged and otherwise ignored: it never fails the run.
         *
         * @param listener takes each {@link KafkaRebalance}
         * @return this builder
         * @throws NullPointerException if {@code listener} is null
         * @since 0.1
         */
        public Builder<K, V> onRebalance(Consumer<? super KafkaRebalance> listener) {
            this.rebalanceListener = Require.nonNull(listener, "listener");
            return this;
        }

        /**
         * The source.
         *
         * @return a source with these options
         * @throws IllegalStateException if the bootstrap servers, the group ID or the topics are not set
         * @throws IllegalArgumentException if the consumer settings are not valid Kafka settings, or the drain
         *     timeout is not below {@code max.poll.interval.ms}
         * @since 0.1
         */
        public KafkaSource<K, V> build() {
            BuilderSettings.requireSet(bootstrapServers, "KafkaSource.Builder", "bootstrapServers");
            BuilderSettings.requireSet(groupId, "KafkaSource.Builder", "groupId");
            BuilderSettings.requireSet(topics.isEmpty() ? null : topics, "KafkaSource.Builder", "topics");
            Map<String, Object> props = new HashMap<>();
            props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            if (exactlyOnce != null) {
                props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            }
            props.putAll(properties);
            props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
            props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
            props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
            props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
            ConsumerConfig config = BuilderSettings.parse("consumer", properties, () -> new ConsumerConfig(props));
            int maxPollInterval = config.getInt(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG);
            Require.argument(
                    drainTimeout.compareTo(Duration.ofMillis(maxPollInterval)) < 0,
                    "drainTimeout",
                    "be below max.poll.interval.ms (" + maxPollInterval + " ms), since revoked partitions drain"
                            + " inside a poll",
                    drainTimeout);
            return new KafkaSource<>(this, props);
        }
    }
}
