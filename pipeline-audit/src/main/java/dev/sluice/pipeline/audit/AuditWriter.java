package dev.sluice.pipeline.audit;

import dev.sluice.pipeline.Overflow;
import dev.sluice.pipeline.audit.internal.DrainLoop;
import dev.sluice.pipeline.audit.internal.Enrichment;
import dev.sluice.pipeline.audit.internal.EventLine;
import dev.sluice.pipeline.audit.internal.ReplayLoop;
import dev.sluice.pipeline.audit.internal.RetryPolicy;
import dev.sluice.pipeline.audit.internal.SpillFile;
import dev.sluice.pipeline.audit.internal.Spillover;
import dev.sluice.pipeline.audit.internal.WriterCounters;
import dev.sluice.pipeline.audit.internal.WriterMeters;
import dev.sluice.pipeline.audit.internal.WriterState;
import dev.sluice.pipeline.internal.check.Nanos;
import dev.sluice.pipeline.internal.check.Require;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes audit events to an {@link AuditSink} in the background, so that neither a slow nor a failing store ever
 * fails the code that produces them. Built with {@link #builder(AuditSink)}.
 *
 * <h2>How it writes</h2>
 * {@link #submit} puts the event in a bounded queue (capacity {@value Builder#DEFAULT_QUEUE_CAPACITY} by default) and
 * returns. One writer thread takes what the queue holds, up to {@value Builder#DEFAULT_BATCH_SIZE} events at a time
 * without waiting for more (so a slow store gets bigger batches), and hands each batch to the sink (a JDBC sink writes
 * it in one transaction). Each event also goes to SLF4J as one line when it is submitted, unless
 * {@link Builder#logEvents(boolean) logEvents(false)}.
 *
 * <p>With {@link Builder#writeThreads(int) writeThreads(n)}, n writer threads take batches from the queue and write
 * them at once, each on a connection of its own (see {@link JdbcAuditSink}): a database server that spends most of a
 * batch's time on its own work (parsing, indexes, the commit) then stores more rows a second. Batches are then
 * committed in no set order: a later batch may commit before an earlier one. What the store keeps does not depend on
 * it (a running event never replaces a finished one with its ID, whichever comes first), except that of two finished
 * events with one ID in different batches, either may be the one kept.
 *
 * <h2>When the store fails</h2>
 * <ol>
 *   <li>The batch is retried: retry r waits min(initial × 2<sup>r−1</sup>, max), by default 100, 200, 400 ms.</li>
 *   <li>Then it goes to the spill file (if one is configured): an append-only file of JSON lines, forced to disk.
 *       While the store is taken to be down, later batches go straight to the file, and a second thread (the
 *       replaying thread, which every writer with a spill file has) tries to replay the file into the store once per
 *       max retry delay, its first event alone as a cheap probe of the store.</li>
 *   <li>Once the store takes the probe, the writer thread writes new batches to it again, while the replaying thread
 *       goes on replaying the file beside it: the queue keeps draining however long a replay takes. A file left by
 *       an earlier writer (a crash, a close during an outage) is replayed when the next writer on it starts.</li>
 * </ol>
 * Because stores keep one row per event ID, a retried batch or a replayed file never duplicates a row. Without a spill
 * file, a batch that still fails after its retries is dropped. A dropped event is counted and logged, so nothing is
 * lost silently: one that reached the writer (a failed batch) at ERROR with its JSON; one refused at the door (a full
 * queue under a dropping policy, a closed writer, an interrupted submit) at WARN, at most once a second, with its
 * event ID (its own line was logged when it was submitted, unless {@code logEvents(false)}).
 *
 * <h2>When the store refuses an event</h2>
 * A store may refuse an event for good, whatever the retries: a CHECK constraint or a trigger that says no, a column
 * narrower than the value. The writer tells such a refusal from a failure by its SQLState
 * ({@link AuditStoreException#sqlState()}): classes 22 (data exception), 23 (integrity constraint violation) and 54
 * (program limit exceeded) refuse; every other class (08 connection, 40 rollback, 53 resources, 57 operator
 * intervention, 42 a dropped table or a revoked grant, which refuse every event alike until an operator acts) and no
 * SQLState at all are failures, retried and spilled as above. A refused batch is split in halves, and the halves split
 * again, until each refused event stands alone; the events around it are written. A refused event goes to the spill
 * file, and its replay sets it aside in the <b>dead-letter file</b> beside the spill file (see
 * {@link Builder#spillFile}): one JSON line each, with the time, the SQLState, the store's message and the event. Each
 * is counted ({@link AuditReport#deadLettered()}, {@code sluice.audit.events{outcome=dead-lettered}}) and logged at
 * WARN, and the replay goes on past it. Without a spill file, a refused event is dropped and logged at ERROR with its
 * JSON. {@link AuditEvent} refuses at once the values that no store could hold, so a refusal comes from what the
 * table adds: a constraint, a trigger, a narrower column.
 *
 * <h2>Blocking, threads and failure</h2>
 * {@code submit} waits while the queue is full (the default, {@link Overflow#BLOCK}), or drops an event with
 * {@link Overflow#DROP_NEWEST} or {@link Overflow#DROP_OLDEST} (counted). It never throws for a store's failure. Thread
 * safe: any number of threads may submit at once. The writer's threads (the writer threads, and the replaying thread
 * with a spill file) are platform daemon threads by default, because SQLite's driver runs native code that would pin
 * a virtual thread's carrier; {@link Builder#threadFactory} can give virtual ones for other stores.
 *
 * <h2>Closing, and what a crash loses</h2>
 * {@link #close(Duration)} stops taking events, then waits up to the timeout while the writer thread writes what is
 * queued (spilling it if the store fails, without waiting out retry delays that would pass the timeout) and the
 * replaying thread tries the spill file one last time, and returns an {@link AuditReport}. If a thread is still busy
 * when the timeout passes (a store call that hangs), it is interrupted and the events still queued are spilled by the
 * closing thread, or dropped (counted) without a spill file. Only the batch that the hung store call holds remains
 * pending; it is spilled if the call fails later, while the process lives. A replay cut short by the timeout leaves
 * the rest of the file to the next writer.
 *
 * <p>A process killed without {@code close()} (SIGKILL, a crash, power loss) loses the events that were queued or
 * being written but not yet committed or appended to the spill file: at most the queue capacity plus one batch per
 * writer thread. A spill-file line cut by the kill is set aside on replay (that event is one of those). Everything
 * appended to the spill file before the kill is replayed by the next writer on the file; an event that a replay set
 * aside just before the kill may be set aside a second time.
 *
 * @since 0.1
 */
public final class AuditWriter implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AuditWriter.class);
    private static final Logger eventLog = LoggerFactory.getLogger(Slf4jAuditSink.DEFAULT_LOGGER);
    private static final long BLOCKED_SUBMIT_RECHECK_MS = 100;
    private static final long CLOSE_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private final AuditSink sink;
    private final ArrayBlockingQueue<AuditEvent> queue;
    private final Overflow whenFull;
    private final Duration closeTimeout;
    private final boolean logEvents;
    private final WriterCounters counters = new WriterCounters();
    private final WriterState state; // the lifecycle and the store's belief, shared with the threads
    private final Spillover spillover;
    private final List<Thread> threads; // the draining threads, then the replaying one if there is a spill file
    private final WriterMeters meters; // null without a registry
    private final Enrichment enrichment;

    private AuditWriter(Builder b, SpillFile spill) {
        this.sink = b.sink;
        this.queue = new ArrayBlockingQueue<>(b.queueCapacity);
        this.whenFull = b.whenFull;
        this.closeTimeout = b.closeTimeout;
        this.logEvents = b.logEvents;
        this.enrichment = new Enrichment(b.enrichers, counters, log);
        this.spillover = new Spillover(spill, counters);
        this.state = new WriterState(b.writeThreads, spill != null);
        RetryPolicy retry = new RetryPolicy(b.maxRetries, b.initialRetryDelay, b.maxRetryDelay);
        List<Thread> all = new ArrayList<>(b.writeThreads + 1);
        for (int i = 0; i < b.writeThreads; i++) {
            all.add(newThread(
                    b.threadFactory, new DrainLoop(queue, sink, b.batchSize, retry, spillover, counters, state), true));
        }
        if (spill != null) {
            all.add(newThread(
                    b.threadFactory, new ReplayLoop(sink, b.batchSize, retry, spillover, counters, state), false));
        }
        this.threads = List.copyOf(all);
        this.meters =
                b.registry == null ? null : WriterMeters.bind(b.registry, counters, queue); // last: nothing fails after
    }

    /**
     * A builder for a writer that writes to {@code sink}; the writer owns the sink and closes it when it closes.
     *
     * @param sink the sink; the writer owns it
     * @return a builder with the defaults
     * @since 0.1
     */
    public static Builder builder(AuditSink sink) {
        return new Builder(Require.nonNull(sink, "sink"));
    }

    // ------------------------------------------------------------------------------------------- submitting

    /**
     * Hands an event to the writer. With {@link Overflow#BLOCK} (the default), waits while the queue is full; with a
     * dropping policy, never waits. Never throws because of the store.
     *
     * @return true if the event was taken (it will be written or spilled); false if it was dropped: the queue was
     *     full under a dropping policy, or the writer is closing or closed
     * @param event the event
     * @since 0.1
     * @throws InterruptedException if interrupted while waiting for room; the event was not taken and counts as dropped
     */
    public boolean submit(AuditEvent event) throws InterruptedException {
        Require.nonNull(event, "event");
        event = enrichment.apply(event);
        counters.submitted.incrementAndGet();
        try {
            return enqueue(event);
        } catch (InterruptedException e) {
            spillover.drop(List.of(event), "the submitting thread was interrupted while the queue was full", false);
            throw e;
        }
    }

    /**
     * {@link #submit}, for code that must not be interrupted by auditing: never throws {@link InterruptedException}.
     * If interrupted while the queue is full, it puts the event in the spill file directly (or drops it, counted,
     * without one) and keeps the interrupt flag set. Never throws for the store.
     *
     * <pre>{@code
     * audit.log(AuditEvent.streaming("GetUsersOnlineStream", correlationId)
     *         .startedAt(startTime)
     *         .endedAt(Instant.now())
     *         .itemCount(processedCount)
     *         .build());
     * }</pre>
     *
     * @param event the event
     * @return true if the event was taken or spilled; false if it was dropped, as for {@link #submit}
     * @since 0.1
     */
    public boolean log(AuditEvent event) {
        Require.nonNull(event, "event");
        event = enrichment.apply(event);
        counters.submitted.incrementAndGet();
        try {
            return enqueue(event);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return spillover.storeAside(
                    List.of(event), "the submitting thread was interrupted while the queue was full");
        }
    }

    private boolean enqueue(AuditEvent event) throws InterruptedException {
        if (logEvents) {
            EventLine.log(eventLog, event);
        }
        if (state.closing()) {
            spillover.drop(List.of(event), "the audit writer is closed", false);
            return false;
        }
        if (state.hasDrainEnded()) {
            return spillover.storeAside(List.of(event), "the audit writer's thread has ended");
        }
        switch (whenFull) {
            case DROP_NEWEST -> {
                if (!queue.offer(event)) {
                    spillover.drop(List.of(event), "the audit queue is full", false);
                    return false;
                }
            }
            case DROP_OLDEST -> {
                while (!queue.offer(event)) {
                    AuditEvent oldest = queue.poll();
                    if (oldest != null && oldest != DrainLoop.WAKE_UP) {
                        spillover.drop(List.of(oldest), "the audit queue is full", false);
                    }
                }
            }
            default -> {
                // Wait for room, but notice a close that will never make any: re-check every so often.
                while (!queue.offer(event, BLOCKED_SUBMIT_RECHECK_MS, TimeUnit.MILLISECONDS)) {
                    if (state.sealed() || state.hasDrainEnded()) {
                        return spillover.storeAside(List.of(event), "the audit writer closed while the queue was full");
                    }
                }
            }
        }
        // close() drains the queue after sealing it; an event that got in after that drain is taken back here.
        if (state.sealed() && queue.remove(event)) {
            return spillover.storeAside(List.of(event), "the audit writer closed as the event arrived");
        }
        return true;
    }

    private Thread newThread(ThreadFactory factory, Runnable body, boolean draining) {
        Thread t = factory.newThread(() -> {
            try {
                body.run();
            } finally {
                if (state.threadEnded(draining)) {
                    release(); // close() returned while this thread was still busy
                }
            }
        });
        if (t == null) {
            throw new IllegalStateException("the threadFactory returned no thread");
        }
        return t;
    }

    // -------------------------------------------------------------------------------------------- closing

    /**
     * What the writer has done so far.
     *
     * @return the counts now; exact each, not taken at one instant
     * @since 0.1
     */
    public AuditReport report() {
        long pending = counters.pending();
        return new AuditReport(
                counters.submitted.get(),
                counters.written.get(),
                counters.spilled.get(),
                counters.replayed.get(),
                counters.deadLettered.get(),
                counters.dropped.get(),
                pending);
    }

    /** {@link #close(Duration)} with the builder's close timeout (10 s by default). */
    @Override
    public void close() {
        close(closeTimeout);
    }

    /**
     * Stops taking events, writes (or spills) what is queued within {@code timeout}, closes the sink and the spill
     * file, and reports. Events submitted from now on are dropped (counted). Waits at most {@code timeout} plus half a
     * second (plus, without a spill file, one store call for events that arrived as the writer stopped); a later call
     * waits for the first one and reports the same. See the class comment for what a timeout leaves pending. If a
     * thread of the writer is still stuck in a store call when this returns, the spill file stays locked until that
     * call ends: a new writer on the same spill file is refused meanwhile.
     *
     * @param timeout how long to wait for the queue to be written, not negative
     * @return the final counts
     * @since 0.1
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public AuditReport close(Duration timeout) {
        Require.notNegative(timeout, "timeout");
        long timeoutNanos = Nanos.saturated(timeout);
        if (!state.beginClose(System.nanoTime() + timeoutNanos)) {
            state.awaitClosed(timeoutNanos + CLOSE_GRACE_NANOS);
            return report();
        }
        try {
            queue.offer(DrainLoop.WAKE_UP); // each writer thread that ends passes it on (see DrainLoop)
            if (!state.awaitThreadsEnded(timeoutNanos)) {
                log.warn(
                        "the audit writer did not finish within {}; interrupting it ({} events pending)",
                        timeout,
                        counters.pending());
                threads.forEach(Thread::interrupt);
                state.awaitThreadsEnded(CLOSE_GRACE_NANOS);
            }
            state.seal();
            List<AuditEvent> left = DrainLoop.takeLeftovers(queue);
            if (!left.isEmpty()) {
                takeLeftovers(left, state.hasDrainEnded());
            }
            if (meters != null) {
                meters.remove();
            }
            AuditReport r = report();
            log.info(
                    "audit writer closed: {} written, {} spilled, {} replayed, {} dead-lettered, {} dropped, {} pending",
                    r.written(),
                    r.spilled(),
                    r.replayed(),
                    r.deadLettered(),
                    r.dropped(),
                    r.pending());
            return r;
        } finally {
            if (state.closeReturned()) {
                release(); // every thread had ended
            }
        }
    }

    /**
     * Events that reached the queue after the writer threads stopped taking them. With a spill file they go there (a
     * store call from here could hang past close's bound; the next writer replays them); without one, the closing
     * thread writes them itself if the writer thread has ended, rather than drop them.
     */
    private void takeLeftovers(List<AuditEvent> left, boolean threadEnded) {
        if (threadEnded && spillover.file() == null) {
            try {
                sink.write(left);
                counters.written.addAndGet(left.size());
                return;
            } catch (RuntimeException | LinkageError | AssertionError e) {
                log.warn("writing {} late audit events failed; spilling them", left.size(), e);
            }
        }
        spillover.storeAside(left, "the audit writer closed before they could be written");
    }

    /** Closes the spill file and the sink; called once, by whoever the writer's state says must. */
    private void release() {
        spillover.close();
        try {
            sink.close();
        } catch (RuntimeException e) {
            log.warn("closing audit sink {} failed", sink, e);
        }
    }

    @Override
    public String toString() {
        SpillFile spill = spillover.file();
        return "AuditWriter[" + sink + (spill != null ? ", spill " + spill.path() : "") + ", " + report() + "]";
    }

    // -------------------------------------------------------------------------------------------- builder

    /**
     * The options of an {@link AuditWriter}. Each setter checks its argument at once and throws
     * {@link IllegalArgumentException} naming the option, the value and the rule. Not thread-safe; {@link #build()}
     * may be called more than once (each writer needs its own spill file).
     */
    public static final class Builder {
        /** The queue's capacity unless {@link #queueCapacity} says otherwise. */
        public static final int DEFAULT_QUEUE_CAPACITY = 10_000;
        /** The most events in one transaction unless {@link #batchSize} says otherwise. */
        public static final int DEFAULT_BATCH_SIZE = 500;

        /** The most writer threads {@link #writeThreads} allows. */
        public static final int MAX_WRITE_THREADS = 16;

        private final AuditSink sink;
        private int queueCapacity = DEFAULT_QUEUE_CAPACITY;
        private int writeThreads = 1;
        private int batchSize = DEFAULT_BATCH_SIZE;
        private Overflow whenFull = Overflow.BLOCK;
        private int maxRetries = 3;
        private Duration initialRetryDelay = Duration.ofMillis(100);
        private Duration maxRetryDelay = Duration.ofSeconds(1);
        private Path spillFile;
        private Duration closeTimeout = Duration.ofSeconds(10);
        private MeterRegistry registry;
        private ThreadFactory threadFactory =
                Thread.ofPlatform().name("sluice-audit-writer-", 0).daemon(true).factory();
        private boolean logEvents = true;
        private final List<AuditEnricher> enrichers = new ArrayList<>();

        private Builder(AuditSink sink) {
            this.sink = sink;
        }

        /**
         * How many events may wait to be written (default {@value #DEFAULT_QUEUE_CAPACITY}); at least 1.
         *
         * @param capacity the capacity
         * @return this builder
         * @throws IllegalArgumentException if {@code capacity} is below 1
         */
        public Builder queueCapacity(int capacity) {
            this.queueCapacity = Require.atLeast(capacity, 1, "queueCapacity");
            return this;
        }

        /**
         * The most events written in one transaction (default {@value #DEFAULT_BATCH_SIZE}); at least 1.
         *
         * @param size the batch size
         * @return this builder
         * @throws IllegalArgumentException if {@code size} is below 1
         */
        public Builder batchSize(int size) {
            this.batchSize = Require.atLeast(size, 1, "batchSize");
            return this;
        }

        /**
         * How many writer threads take batches from the queue and write them to the sink at once (default 1); 1 to
         * {@value #MAX_WRITE_THREADS}. With more than one, a sink on a database server writes on as many connections at
         * once ({@link JdbcAuditSink} keeps one per thread; a sink on a pool takes them from the pool), and batches
         * commit in no set order (see the class comment). SQLite takes one writer at a time: its sink makes the threads
         * take turns on one connection, so more threads add nothing there. Two suit a server on the same machine;
         * more pay off only while the server has idle cores and the queue stays busy.
         *
         * @param count the number of writer threads
         * @return this builder
         * @throws IllegalArgumentException if {@code count} is below 1 or above {@value #MAX_WRITE_THREADS}
         */
        public Builder writeThreads(int count) {
            this.writeThreads = Require.between(count, 1, MAX_WRITE_THREADS, "writeThreads");
            return this;
        }

        /**
         * What {@code submit} does when the queue is full: {@link Overflow#BLOCK} waits (the default),
         * {@link Overflow#DROP_NEWEST} drops the event submitted, {@link Overflow#DROP_OLDEST} drops the oldest queued
         * one. Drops are counted ({@code sluice.audit.events{outcome=dropped}}).
         *
         * @param policy the policy
         * @return this builder
         * @throws IllegalArgumentException for {@link Overflow#FAIL}: the writer never throws at its callers
         */
        public Builder whenFull(Overflow policy) {
            Require.nonNull(policy, "whenFull");
            Require.argument(
                    policy != Overflow.FAIL,
                    "whenFull",
                    "be BLOCK, DROP_NEWEST or DROP_OLDEST",
                    "FAIL: the audit writer never throws at the code that submits");
            this.whenFull = policy;
            return this;
        }

        /**
         * How a failed batch is retried before it is spilled: {@code maxRetries} retries (0 to 10, default 3), retry r
         * waiting min(initialDelay × 2<sup>r−1</sup>, maxDelay) (defaults 100 ms and 1 s). While the store is down, the
         * spill file is replayed once every {@code maxDelay}.
         *
         * @param maxRetries retries after the first attempt
         * @param initialDelay the wait before the first retry, at least 1 ms
         * @param maxDelay the longest wait, not below {@code initialDelay}
         * @return this builder
         * @throws IllegalArgumentException for a value outside those ranges
         */
        public Builder retry(int maxRetries, Duration initialDelay, Duration maxDelay) {
            Require.between(maxRetries, 0, 10, "maxRetries");
            Require.positive(initialDelay, "initialDelay");
            Require.positive(maxDelay, "maxDelay");
            Require.argument(
                    initialDelay.compareTo(Duration.ofMillis(1)) >= 0,
                    "initialDelay",
                    "be at least 1 ms (the backoff counts whole milliseconds)",
                    initialDelay);
            Require.argument(
                    maxDelay.compareTo(initialDelay) >= 0,
                    "maxDelay",
                    "not be below initialDelay",
                    "maxDelay " + maxDelay + " and initialDelay " + initialDelay);
            this.maxRetries = maxRetries;
            this.initialRetryDelay = initialDelay;
            this.maxRetryDelay = maxDelay;
            return this;
        }

        /**
         * Where events go while the store fails, to be replayed later (none by default: such events are dropped,
         * counted and logged). The file and its directories are created if missing; a {@code .lock} file beside it
         * keeps a second writer off it. It should be on local disk that outlives the process. Events the store
         * refuses for good are set aside beside it, in a dead-letter file created at its first record (see the class
         * comment): {@code audit-spill.jsonl} gives {@code audit-spill.dead-letters.jsonl}, and a name not ending in
         * {@code .jsonl} gets {@code .dead-letters.jsonl} added.
         *
         * @param file the spill file
         * @return this builder
         */
        public Builder spillFile(Path file) {
            this.spillFile = Require.nonNull(file, "spillFile");
            return this;
        }

        /**
         * How long {@link AuditWriter#close()} waits for the queue to be written (default 10 s); not negative.
         *
         * @param timeout the timeout
         * @return this builder
         * @throws IllegalArgumentException if {@code timeout} is negative
         */
        public Builder closeTimeout(Duration timeout) {
            this.closeTimeout = Require.notNegative(timeout, "closeTimeout");
            return this;
        }

        /**
         * Registers {@code sluice.audit.events{outcome=written|spilled|dead-lettered|dropped}},
         * {@code sluice.audit.enrichment.failures} and {@code sluice.audit.queue.size} in {@code registry}, until the writer closes. One writer per registry: a
         * registry keeps the first meter of a name.
         *
         * @param registry the registry
         * @return this builder
         */
        public Builder meterRegistry(MeterRegistry registry) {
            this.registry = Require.nonNull(registry, "registry");
            return this;
        }

        /**
         * Makes the writer's threads: the writer threads, and with a spill file the replaying thread (default: platform
         * daemon threads named {@code sluice-audit-writer-N}). Virtual threads suit PostgreSQL's driver; SQLite's pins
         * its carrier during every native call, including the wait of its busy timeout.
         *
         * @param factory the factory; it must return a thread for each call
         * @return this builder
         */
        public Builder threadFactory(ThreadFactory factory) {
            this.threadFactory = Require.nonNull(factory, "threadFactory");
            return this;
        }

        /**
         * Whether each submitted event is also logged as one line to the SLF4J logger
         * {@value Slf4jAuditSink#DEFAULT_LOGGER} (default true).
         *
         * @param log whether to log each event
         * @return this builder
         */
        public Builder logEvents(boolean log) {
            this.logEvents = log;
            return this;
        }

        /**
         * Adds attributes to every event the writer takes (none by default), on the submitting thread before the event
         * is queued: see {@link AuditEnricher} for what wins when keys meet, and what happens when an enricher fails
         * (the event is written without its attributes, the failure counted and logged). May be called more than
         * once: enrichers apply in the order given.
         *
         * @param enricher the enricher, such as {@link AuditEnricher#mdc AuditEnricher.mdc("tenant")}
         * @return this builder
         */
        public Builder enricher(AuditEnricher enricher) {
            enrichers.add(Require.nonNull(enricher, "enricher"));
            return this;
        }

        /**
         * Opens the spill file, if any, and starts the writer's threads; the replaying thread replays at once what the
         * spill file holds.
         *
         * @return a running writer
         * @throws IllegalStateException if another writer holds the spill file
         * @throws java.io.UncheckedIOException if the spill file cannot be created or opened
         */
        public AuditWriter build() {
            SpillFile spill = spillFile == null ? null : SpillFile.open(spillFile);
            AuditWriter writer = null;
            try {
                writer = new AuditWriter(this, spill);
                writer.threads.forEach(Thread::start);
            } catch (RuntimeException | Error e) {
                if (spill != null) {
                    spill.close();
                }
                if (writer != null && writer.meters != null) {
                    writer.meters.remove();
                }
                throw e;
            }
            return writer;
        }
    }
}
