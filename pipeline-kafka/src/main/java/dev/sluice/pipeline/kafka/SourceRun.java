package dev.sluice.pipeline.kafka;

import dev.sluice.pipeline.internal.check.Nanos;
import io.micrometer.context.ContextSnapshot;
import io.micrometer.context.ContextSnapshotFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/*
 * One run of a KafkaSource: a consumer owned by a poll thread of its own, and the hand-over (Intake) from which the
 * source stage's thread takes records.
 *
 * Invariants:
 * - Only the poll thread calls the consumer, except wakeup(), which any thread may call. The rebalance listener and
 *   commit callbacks run inside poll(), so on the poll thread too.
 * - The poll thread never waits for the pipeline. When the intake holds maxBuffered records or more it pauses every
 *   assigned partition and keeps polling (membership and heartbeats go on; poll returns nothing new), and resumes
 *   once the intake is down to half of that. So the intake holds at most maxBuffered plus one poll's records
 *   (max.poll.records), and max.poll.interval.ms is never overrun however slow the pipeline is.
 * - A record is emitted only if its partition's state admits it, i.e. the assignment it was fetched under still
 *   holds (PartitionState).
 * - With transactions: a partition being revoked stays among the partitions whose offsets a commit takes (revoking)
 *   until its revocation is handled, so no commit takes its output without its offsets. A run that cannot keep
 *   output and offsets together (records of revoked partitions unfinished after the drain timeout, lost partitions
 *   with output not committed, a failed poll thread, an end without every record finished) forfeits its
 *   transactions (Transactions): it commits nothing more.
 */
final class SourceRun {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaSource.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(100);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration SETTLE_CHECK = Duration.ofMillis(5);

    private final KafkaSource<?, ?> options;
    private final Committer committer = new Committer();
    private final String pipelineName;
    private final RebalanceReports reports;
    private final KafkaMeters meters;
    private final Intake intake = new Intake();
    private final Map<TopicPartition, PartitionState> assigned = new ConcurrentHashMap<>();
    private final int resumeAt;
    /** Whether the run is aborting: nothing in flight will finish any more. */
    private final BooleanSupplier aborting;
    /** Null unless the source commits through a transactional sink. */
    private final Transactions transactions;
    /** Partitions being revoked, whose offsets a transaction commits with the rest. Poll thread. */
    private volatile List<PartitionState> revoking = List.of();
    /** The consumer's group metadata as of the last poll, for transactions. */
    private volatile ConsumerGroupMetadata groupMetadata;

    private Thread pollThread;
    /** Set by the source thread to end the poll loop. */
    private volatile boolean closing;
    /** Set by the source thread once it takes nothing more: the poll thread pauses everything. */
    private volatile boolean draining;
    /** Why the poll thread failed, once it has; set before the consumer is closed. */
    private volatile KafkaSourceException pollFailure;

    // Poll thread only.
    private KafkaConsumer<byte[], byte[]> consumer;
    /** Written by the poll thread; read by the source thread to decide whether to wake it. */
    private volatile boolean paused;

    private long nextCommitNanos;

    SourceRun(
            KafkaSource<?, ?> options,
            String pipelineName,
            String correlationId,
            KafkaMeters meters,
            BooleanSupplier aborting) {
        this.options = options;
        this.aborting = aborting;
        this.pipelineName = pipelineName;
        this.reports =
                new RebalanceReports(options.rebalanceListener(), pipelineName, correlationId, options.groupId());
        this.meters = meters;
        this.resumeAt = options.maxBuffered() / 2;
        this.transactions = options.transactions();
    }

    Intake intake() {
        return intake;
    }

    /** Starts the poll thread. */
    void start() {
        if (transactions != null) {
            transactions.attach(committer, options.commitInterval());
        }
        // The poll thread logs for the run and calls the rebalance listener: it carries the context of the source's
        // thread (the run's MDC keys, and whatever of its caller's context the run carries), as the run's own do.
        Map<String, String> mdc = MDC.getCopyOfContextMap();
        ContextSnapshot context = ContextSnapshotFactory.builder().build().captureAll();
        pollThread = Thread.ofPlatform()
                .daemon()
                .name("sluice-kafka-poll-" + pipelineName)
                .start(() -> pollInContext(mdc, context));
    }

    /**
     * Wakes the poll thread if the intake has gone down to where paused partitions resume, so that they resume
     * without waiting for the poll timeout. Source thread, after each take.
     */
    void tookRecords() {
        if (paused && intake.size() <= resumeAt) {
            wakeup();
        }
    }

    /**
     * Ends the run. Nothing more is taken; the records already emitted get up to the drain timeout to finish, unless
     * {@code nothingWillFinish} (the pipeline takes no more items) or until the run is aborting (failed, cancelled,
     * past its deadline or its stop's grace period: nothing in flight will finish any more), while the poll thread
     * keeps polling with its partitions paused. An interrupt (a graceful stop reaches the source as one) does not cut
     * the wait short. Then what finished is committed (a transaction is committed if everything finished and aborted
     * otherwise), and the poll thread closes the consumer, leaving the group, and ends. Returns once it has; the
     * interrupt status is kept. Source thread.
     */
    void close(boolean nothingWillFinish) {
        boolean interrupted = Thread.interrupted();
        draining = true;
        intake.close();
        boolean settled = !nothingWillFinish
                && pollFailure == null
                && awaitSettled(List.copyOf(assigned.values()))
                && pollFailure == null;
        interrupted |= Thread.interrupted();
        if (transactions != null) {
            try {
                if (!settled || !transactions.commit()) {
                    transactions.forfeit(committer);
                }
            } catch (InterruptedException e) {
                interrupted = true;
                transactions.forfeit(committer);
            } catch (RuntimeException e) {
                LOG.warn("pipeline '{}': the last transaction failed; its input will be read again", pipelineName, e);
            }
        }
        closing = true;
        wakeup();
        while (pollThread != null && pollThread.isAlive()) {
            try {
                pollThread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (transactions != null) {
            transactions.detach(committer);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Waits until every record admitted of {@code states} has been acknowledged, the drain timeout has passed, the run
     * is aborting, or the poll thread has failed. An interrupt does not end the wait; it is kept for later.
     *
     * @return whether they all were acknowledged
     */
    private boolean awaitSettled(List<PartitionState> states) {
        long deadline = System.nanoTime() + Nanos.saturated(options.drainTimeout());
        boolean interrupted = false;
        try {
            while (!states.stream().allMatch(PartitionState::settled)) {
                if (System.nanoTime() - deadline >= 0 || aborting.getAsBoolean() || pollFailure != null) {
                    return false;
                }
                try {
                    Thread.sleep(SETTLE_CHECK);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            return true;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The most records the intake held at once. */
    int peakBuffered() {
        return intake.peak();
    }

    private void wakeup() {
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    // ------------------------------------------------------------------------------------------ poll thread

    private void pollInContext(Map<String, String> mdc, ContextSnapshot context) {
        if (mdc != null) {
            MDC.setContextMap(mdc);
        }
        ContextSnapshot.Scope restored = null;
        try {
            restored = context.setThreadLocals();
        } catch (Throwable e) { // an Error too: the consumer must poll with or without the context
            LOG.warn("pipeline '{}': the run's context could not be set on the poll thread", pipelineName, e);
        }
        try {
            pollLoop();
        } finally {
            if (restored != null) {
                try {
                    restored.close();
                } catch (Throwable e) { // the thread ends here; nothing else of it runs
                    LOG.debug("pipeline '{}': resetting the poll thread's context failed", pipelineName, e);
                }
            }
            MDC.clear();
        }
    }

    private void pollLoop() {
        KafkaConsumer<byte[], byte[]> c = null;
        try {
            c = new KafkaConsumer<>(
                    options.consumerProperties(), new ByteArrayDeserializer(), new ByteArrayDeserializer());
            consumer = c;
            requireTopics();
            c.subscribe(options.topics(), new Rebalance());
            nextCommitNanos = System.nanoTime() + Nanos.saturated(options.commitInterval());
            while (!closing) {
                pauseOrResume();
                ConsumerRecords<byte[], byte[]> polled;
                try {
                    polled = c.poll(POLL_TIMEOUT);
                } catch (WakeupException woken) {
                    continue;
                }
                if (pollFailure != null) { // a rebalance listener of ours failed, however the consumer took it
                    throw pollFailure;
                }
                hand(polled);
                groupMetadata = c.groupMetadata();
                updateLag();
                if (System.nanoTime() - nextCommitNanos >= 0) {
                    commit(false);
                    nextCommitNanos = System.nanoTime() + Nanos.saturated(options.commitInterval());
                }
            }
            if (transactions == null) {
                commit(true);
            }
            c.close(CloseOptions.timeout(CLOSE_TIMEOUT));
        } catch (Throwable t) {
            KafkaSourceException failure = failed(t instanceof KafkaSourceException k ? k : describe(t));
            intake.fail(failure);
            if (c != null) {
                closeAfterFailure(c);
            }
        } finally {
            for (PartitionState state : assigned.values()) {
                meters.unassigned(state);
            }
            assigned.clear();
        }
    }

    /**
     * Records the poll thread's failure (the first one given, such as a rebalance listener's, wins over the
     * consumer's wrapping of it) and forfeits the run's transactions: from here on the run commits nothing with them.
     *
     * @return the failure recorded
     */
    private KafkaSourceException failed(KafkaSourceException failure) {
        if (pollFailure == null) {
            pollFailure = failure;
        }
        if (transactions != null) {
            transactions.forfeit(committer);
        }
        return pollFailure;
    }

    /**
     * Closes the consumer of a failed poll loop; its revocation of what the run still holds waits for nothing and,
     * with transactions, commits nothing. A failure to close is logged: the run's failure is already recorded.
     */
    private void closeAfterFailure(KafkaConsumer<byte[], byte[]> c) {
        try {
            c.close(CloseOptions.timeout(CLOSE_TIMEOUT));
        } catch (RuntimeException e) {
            LOG.debug("pipeline '{}': closing the consumer after its failure failed", pipelineName, e);
        }
    }

    /**
     * Fails fast, with a clear message, if Kafka cannot be reached within the connect timeout or a topic does not
     * exist; the consumer itself would retry both quietly for ever.
     */
    private void requireTopics() {
        for (String topic : options.topics()) {
            List<PartitionInfo> partitions;
            try {
                partitions = consumer.partitionsFor(topic, Duration.ofNanos(Nanos.saturated(options.connectTimeout())));
            } catch (TimeoutException e) {
                throw new KafkaSourceException(
                        "Kafka could not be reached at " + options.bootstrapServers() + " within "
                                + options.connectTimeout() + " (bootstrap.servers; the connect timeout is "
                                + "KafkaSource.Builder.connectTimeout)",
                        e);
            }
            if (partitions == null || partitions.isEmpty()) {
                throw new KafkaSourceException(
                        "topic '" + topic + "' does not exist on " + options.bootstrapServers()
                                + " (create it first; KafkaSource does not create topics)",
                        null);
            }
        }
    }

    private void pauseOrResume() {
        int held = intake.size();
        if (!paused && (draining || held >= options.maxBuffered())) {
            paused = true;
            meters.paused();
        } else if (paused && !draining && held <= resumeAt) {
            paused = false;
            consumer.resume(consumer.assignment());
        }
        if (paused) {
            // Also pauses partitions assigned since the last pause; pausing a paused partition changes nothing.
            consumer.pause(consumer.assignment());
        }
    }

    private void hand(ConsumerRecords<byte[], byte[]> polled) {
        if (polled.isEmpty()) {
            return;
        }
        List<Intake.Fetched> fetched = new ArrayList<>(polled.count());
        for (ConsumerRecord<byte[], byte[]> record : polled) {
            PartitionState state = assigned.get(new TopicPartition(record.topic(), record.partition()));
            if (state != null) {
                fetched.add(new Intake.Fetched(record, state));
            }
        }
        intake.add(fetched);
    }

    private void updateLag() {
        for (PartitionState state : assigned.values()) {
            OptionalLong lag = consumer.currentLag(state.topicPartition());
            if (lag.isPresent()) {
                state.lag(lag.getAsLong());
            }
        }
    }

    /**
     * Commits the committable offset of each assigned partition that moved since its last commit: through the
     * consumer, or with a transaction of the sink's.
     */
    private void commit(boolean sync) throws InterruptedException {
        if (transactions != null) {
            if (transactions.commit()) {
                meters.committed(true);
            }
            return;
        }
        commit(assigned.values(), sync);
    }

    private static Map<TopicPartition, OffsetAndMetadata> committable(Collection<PartitionState> states) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (PartitionState state : states) {
            long committable = state.committable();
            if (committable > state.committed()) {
                offsets.put(state.topicPartition(), new OffsetAndMetadata(committable));
            }
        }
        return offsets;
    }

    private void commit(Collection<PartitionState> states, boolean sync) {
        Map<TopicPartition, OffsetAndMetadata> offsets = committable(states);
        if (offsets.isEmpty()) {
            return;
        }
        if (sync) {
            try {
                despiteWakeups(() -> {
                    consumer.commitSync(offsets);
                    return null;
                });
                committed(offsets, states);
                meters.committed(true);
            } catch (RuntimeException e) {
                meters.committed(false);
                LOG.warn("pipeline '{}': committing {} failed; they will be read again", pipelineName, offsets, e);
            }
        } else {
            consumer.commitAsync(offsets, (done, failure) -> {
                meters.committed(failure == null);
                if (failure == null) {
                    committed(done, states);
                } else {
                    LOG.debug(
                            "pipeline '{}': committing {} failed; a later commit covers them",
                            pipelineName,
                            done,
                            failure);
                }
            });
        }
    }

    /**
     * Calls the consumer, again if a {@link #wakeup()} meant for the poll ends the call: a wake-up is consumed by the
     * first blocking call it ends, so the second attempt runs through.
     */
    private static <T> T despiteWakeups(java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (WakeupException meantForThePoll) {
            return call.get();
        }
    }

    private static void committed(Map<TopicPartition, OffsetAndMetadata> offsets, Collection<PartitionState> states) {
        for (PartitionState state : states) {
            OffsetAndMetadata offset = offsets.get(state.topicPartition());
            if (offset != null && offset.offset() > state.committed()) {
                state.committed(offset.offset());
            }
        }
    }

    private KafkaSourceException describe(Throwable t) {
        return new KafkaSourceException(
                "the Kafka consumer of pipeline '" + pipelineName + "' (topics " + options.topics() + " at "
                        + options.bootstrapServers() + ") failed: " + t,
                t);
    }

    /** Runs inside {@code poll()}, on the poll thread. */
    private final class Rebalance implements ConsumerRebalanceListener {

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            groupMetadata = consumer.groupMetadata();
            Map<TopicPartition, Long> positions = new HashMap<>();
            for (TopicPartition tp : partitions) {
                PartitionState state = new PartitionState(tp, despiteWakeups(() -> consumer.position(tp)));
                assigned.put(tp, state);
                meters.assigned(state);
                positions.put(tp, state.committed());
            }
            if (!partitions.isEmpty()) {
                meters.rebalanced("assigned");
                LOG.info("pipeline '{}': assigned {}", pipelineName, partitions);
                report(KafkaRebalance.Kind.ASSIGNED, partitions, positions, 0, 0);
            }
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            if (transactions != null) {
                revoking = statesOf(partitions); // before they leave assigned: every commit from here on takes them
            }
            try {
                Released released = release(partitions);
                meters.rebalanced("revoked");
                if (!closing && pollFailure == null) { // else close() has drained and committed, or nothing commits
                    boolean settled = awaitSettled(released.states());
                    if (transactions == null) {
                        commit(released.states(), true);
                    } else {
                        commitRevoked(released.states(), settled);
                    }
                    LOG.info("pipeline '{}': revoked {}", pipelineName, partitions);
                }
                Map<TopicPartition, Long> committed = new HashMap<>();
                int unfinished = 0;
                for (PartitionState state : released.states()) {
                    committed.put(state.topicPartition(), state.committed());
                    unfinished += state.unfinished();
                }
                report(KafkaRebalance.Kind.REVOKED, partitions, committed, released.dropped(), unfinished);
            } finally {
                revoking = List.of();
            }
        }

        /**
         * Drops lost partitions without a commit. With transactions, the decision is taken under the transactions'
         * lock, so that no commit runs between the partitions leaving the run and it: if a lost partition may have
         * output not committed (a record processed since its last commit, whose output is in the open transaction,
         * or one unfinished, whose output would be written later), that output must never be committed (the next
         * owner writes it again), and nor can the rest of the open transaction, whose offsets moved with it. The
         * run forfeits its transactions and fails.
         */
        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            Released released;
            boolean forfeited = false;
            if (transactions == null) {
                released = release(partitions);
            } else {
                transactions.lock().lock();
                try {
                    released = release(partitions);
                    if (released.states().stream().anyMatch(PartitionState::mayHaveUncommittedOutput)) {
                        transactions.forfeit(committer);
                        forfeited = true;
                    }
                } finally {
                    transactions.lock().unlock();
                }
            }
            meters.rebalanced("lost");
            LOG.warn(
                    "pipeline '{}': lost {} (another member may already own them; nothing committed)",
                    pipelineName,
                    partitions);
            int unfinished = 0;
            for (PartitionState state : released.states()) {
                unfinished += state.unfinished();
            }
            report(KafkaRebalance.Kind.LOST, partitions, Map.of(), released.dropped(), unfinished);
            if (forfeited && !closing && pollFailure == null) {
                throw failed(new KafkaSourceException(
                        "partitions " + partitions + " were lost (the member was no longer in its group: its session"
                                + " timed out, or a poll came later than max.poll.interval.ms) while output of their"
                                + " records was not committed; it cannot be committed without their offsets, nor the"
                                + " rest of the open transaction without it, so the run fails and the transaction is"
                                + " aborted (the group reads the records again)",
                        null));
            }
        }

        /** Stops taking records of {@code partitions}: none more is admitted, those not yet taken are dropped. */
        private Released release(Collection<TopicPartition> partitions) {
            List<PartitionState> released = new ArrayList<>();
            for (TopicPartition tp : partitions) {
                PartitionState state = assigned.remove(tp);
                if (state != null) {
                    state.revoke();
                    meters.unassigned(state);
                    released.add(state);
                }
            }
            int dropped = intake.removeAll(partitions);
            return new Released(released, dropped);
        }

        /** Tells the source's rebalance listener of a change, with the group metadata of this moment if there is one. */
        private void report(
                KafkaRebalance.Kind kind,
                Collection<TopicPartition> partitions,
                Map<TopicPartition, Long> offsets,
                int dropped,
                int unfinished) {
            ConsumerGroupMetadata group = groupMetadata;
            try {
                group = consumer.groupMetadata();
            } catch (RuntimeException closedOrNotInAGroup) {
                // the metadata of the last poll then
            }
            reports.report(kind, partitions, offsets, dropped, unfinished, group);
        }
    }

    /** The states of released partitions, and how many of their fetched records were dropped before being taken. */
    private record Released(List<PartitionState> states, int dropped) {}

    /**
     * Commits a transaction with the offsets of revoked partitions along with the rest. If records of theirs are still
     * unfinished, their output could only be written after the new owner read them again: exactly once cannot hold,
     * and the run fails (its transactions are forfeited). A run already forfeited commits nothing.
     */
    private void commitRevoked(List<PartitionState> revoked, boolean settled) {
        if (transactions.forfeited(committer)) {
            return;
        }
        if (!settled) {
            throw failed(new KafkaSourceException(
                    "records of revoked partitions " + revoked + " did not finish within the drain timeout ("
                            + options.drainTimeout() + "), so their output could not be committed exactly once; the run"
                            + " fails and the open transaction is aborted (raise drainTimeout, or speed up the job)",
                    null));
        }
        try {
            if (!transactions.commit()) {
                if (transactions.forfeited(committer)) {
                    return; // a commit failed on the sink's thread, which fails the run
                }
                throw failed(new KafkaSourceException(
                        "the offsets of revoked partitions " + revoked + " could not be committed with the output"
                                + " (a later record was written before an earlier one finished: exactly once needs"
                                + " each partition's order kept up to the sink)",
                        null));
            }
            meters.committed(true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failed(new KafkaSourceException("interrupted while committing a transaction on revocation", e));
        }
    }

    /** The states of those of {@code partitions} that are assigned. */
    private List<PartitionState> statesOf(Collection<TopicPartition> partitions) {
        List<PartitionState> states = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            PartitionState state = assigned.get(tp);
            if (state != null) {
                states.add(state);
            }
        }
        return states;
    }

    /** The source run as the transactions see it. The methods run under the transactions' lock. */
    private final class Committer implements Transactions.Committer {

        @Override
        public Map<TopicPartition, OffsetAndMetadata> offsets() {
            List<PartitionState> states = new ArrayList<>(assigned.values());
            states.addAll(revoking);
            for (PartitionState state : states) {
                if (state.processedBeyondCommittable()) {
                    return null;
                }
            }
            return committable(states);
        }

        @Override
        public ConsumerGroupMetadata groupMetadata() {
            return groupMetadata;
        }

        @Override
        public void committed(Map<TopicPartition, OffsetAndMetadata> offsets) {
            List<PartitionState> states = new ArrayList<>(assigned.values());
            states.addAll(revoking);
            SourceRun.committed(offsets, states);
        }
    }
}
