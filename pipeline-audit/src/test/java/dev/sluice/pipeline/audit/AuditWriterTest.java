package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Overflow;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(30)
class AuditWriterTest {

    @TempDir
    Path dir;

    private final List<AuditWriter> writers = new ArrayList<>();
    private final List<ControllableSink> sinks = new ArrayList<>();

    @AfterEach
    void closeEverything() {
        sinks.forEach(ControllableSink::release);
        writers.forEach(w -> w.close(Duration.ofSeconds(5)));
    }

    private ControllableSink sink() {
        ControllableSink s = new ControllableSink();
        sinks.add(s);
        return s;
    }

    private AuditWriter track(AuditWriter w) {
        writers.add(w);
        return w;
    }

    private AuditWriter.Builder fastRetries(AuditSink sink) {
        return AuditWriter.builder(sink)
                .retry(2, Duration.ofMillis(10), Duration.ofMillis(40))
                .logEvents(false);
    }

    private static List<AuditEvent> events(String prefix, int n) {
        List<AuditEvent> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(Events.finished(prefix, i));
        }
        return out;
    }

    @Test
    void queuedEventsAreWrittenInBatchesOfAtMostTheBatchSize() throws Exception {
        // given a store that holds the writer's first call while 1,000 events queue up
        ControllableSink sink = sink().hold();
        AuditWriter writer = track(fastRetries(sink).batchSize(100).build());
        writer.submit(Events.finished("first", 0));
        assertThat(sink.entered.await(10, TimeUnit.SECONDS)).isTrue();
        for (AuditEvent e : events("batch", 1000)) {
            writer.submit(e);
        }

        // when the store lets go
        sink.release();
        AuditReport report = writer.close(Duration.ofSeconds(10));

        // then every event was written, in full batches
        assertThat(sink.store.size()).isEqualTo(1001);
        assertThat(sink.batchSizes).allMatch(n -> n <= 100).contains(100);
        assertThat(report).isEqualTo(new AuditReport(1001, 1001, 0, 0, 0, 0, 0));
    }

    @Test
    void aCloseTimeoutAndARetryDelayMeantAsNeverAreTakenSo() throws Exception {
        // given durations too long to count in nanoseconds, as "never" is often written
        InMemoryAuditSink store = new InMemoryAuditSink();
        AuditWriter writer = track(AuditWriter.builder(store)
                .retry(2, Duration.ofMillis(10), java.time.temporal.ChronoUnit.FOREVER.getDuration())
                .build());
        for (AuditEvent e : events("forever", 100)) {
            writer.submit(e);
        }

        // when
        AuditReport report = writer.close(Duration.ofMillis(Long.MAX_VALUE));

        // then the writer wrote everything and closed, as with any other timeout
        assertThat(report).isEqualTo(new AuditReport(100, 100, 0, 0, 0, 0, 0));
        assertThat(store.size()).isEqualTo(100);
    }

    @Test
    void severalWriterThreadsWriteBatchesAtOnceAndEveryEventOnce() throws Exception {
        // given a store whose writes wait until two of them are under way at once, and that counts how many are; and a
        // spill file left with 200 events, whose replay must not add a store call to those of the two writer threads
        Path spill = dir.resolve("overlap.jsonl");
        List<AuditEvent> left = events("left", 200);
        Files.writeString(spill, jsonLines(left), StandardCharsets.UTF_8);
        InMemoryAuditSink store = new InMemoryAuditSink();
        CountDownLatch twoInside = new CountDownLatch(2);
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger mostInside = new AtomicInteger();
        AuditSink overlapping = events -> {
            mostInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
            try {
                twoInside.countDown();
                if (!twoInside.await(10, TimeUnit.SECONDS)) {
                    throw new AuditStoreException("no second write came", null, null);
                }
                store.write(events);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                inside.decrementAndGet();
            }
        };
        AuditWriter writer = track(fastRetries(overlapping)
                .writeThreads(2)
                .spillFile(spill)
                .batchSize(10)
                .retry(0, Duration.ofMillis(10), Duration.ofMillis(10))
                .build());

        // when 500 events are submitted and the writer closed
        List<AuditEvent> events = events("parallel", 500);
        for (AuditEvent e : events) {
            writer.submit(e);
        }
        AuditReport report = writer.close(Duration.ofSeconds(10));

        // then two writes were under way at once, never more, and every event was written once
        assertThat(mostInside).hasValue(2);
        assertThat(store.events()).containsExactlyInAnyOrderElementsOf(concat(events, left));
        assertThat(report).isEqualTo(new AuditReport(500, 500, 0, 200, 0, 0, 0));
    }

    @Test
    void closeWakesEveryIdleWriterThreadAtOnce() {
        // given a writer with four writer threads, all waiting on an empty queue
        List<Thread> threads = new CopyOnWriteArrayList<>();
        ThreadFactory platform = Thread.ofPlatform().daemon(true).factory();
        AuditWriter writer = track(fastRetries(new InMemoryAuditSink())
                .writeThreads(4)
                .threadFactory(body -> {
                    Thread t = platform.newThread(body);
                    threads.add(t);
                    return t;
                })
                .build());
        await().atMost(Duration.ofSeconds(10))
                .until(() -> threads.size() == 4
                        && threads.stream().allMatch(t -> t.getState() == Thread.State.TIMED_WAITING));

        // when it is closed
        long start = System.nanoTime();
        writer.close(Duration.ofSeconds(10));

        // then it returns without waiting out the threads' idle wait of a second
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(800));
    }

    @Test
    void aFailedBatchIsRetriedAlongTheBackoffScheduleAndWrittenOnce() throws Exception {
        // given a store that fails twice
        ControllableSink sink = sink().failTimes(2);
        AuditWriter writer = track(AuditWriter.builder(sink)
                .logEvents(false)
                .retry(3, Duration.ofMillis(50), Duration.ofMillis(500))
                .build());

        // when an event is submitted
        writer.submit(Events.finished("retry", 1));

        // then it is written on the third call, after waits of at least 50 and 100 ms
        await().atMost(Duration.ofSeconds(10)).until(() -> sink.store.size() == 1);
        List<Long> at = List.copyOf(sink.callNanos);
        assertThat(at).hasSize(3);
        assertThat(TimeUnit.NANOSECONDS.toMillis(at.get(1) - at.get(0))).isGreaterThanOrEqualTo(50);
        assertThat(TimeUnit.NANOSECONDS.toMillis(at.get(2) - at.get(1))).isGreaterThanOrEqualTo(100);
        assertThat(writer.report().written()).isEqualTo(1);
        assertThat(writer.report().spilled()).isZero();
    }

    @ParameterizedTest(name = "{0} writer thread(s)")
    @ValueSource(ints = {1, 3})
    void whileTheStoreIsDownEventsAreSpilledThenReplayedExactlyOnce(int writeThreads) throws Exception {
        // given a store that is down and a spill file
        ControllableSink sink = sink().down();
        Path spill = dir.resolve("spill/audit.jsonl");
        AuditWriter writer = track(
                fastRetries(sink).writeThreads(writeThreads).spillFile(spill).build());

        // when events arrive during the outage
        List<AuditEvent> during = events("outage", 300);
        for (AuditEvent e : during) {
            writer.submit(e);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> writer.report().spilled() == 300);
        assertThat(spilledLines(spill)).hasSize(300);

        // and the store comes back, and more events arrive
        sink.up();
        List<AuditEvent> after = events("after", 200);
        for (AuditEvent e : after) {
            writer.submit(e);
        }

        // then the spill file is replayed (with the later events that came before the writer tried the store again),
        // emptied, and every event is stored once
        await().atMost(Duration.ofSeconds(10)).until(() -> sink.store.size() == 500);
        AuditReport report = writer.close(Duration.ofSeconds(10));
        assertThat(sink.store.events()).containsExactlyInAnyOrderElementsOf(concat(during, after));
        assertThat(report.spilled()).isGreaterThanOrEqualTo(300);
        assertThat(report.replayed()).isEqualTo(report.spilled());
        assertThat(report.written() + report.spilled()).isEqualTo(500);
        assertThat(report.dropped()).isZero();
        assertThat(Files.size(spill)).isZero();
    }

    @Test
    void withoutASpillFileEventsTheStoreRefusesAreDroppedCountedAndLoggedWithTheirJson() throws Exception {
        ControllableSink sink = sink().down();
        AuditEvent event = Events.finished("lost", 1);
        try (LogCapture logs = LogCapture.of(AuditWriter.class)) {
            AuditWriter writer = track(fastRetries(sink).build());

            writer.submit(event);
            AuditReport report = writer.close(Duration.ofSeconds(10));

            assertThat(report.dropped()).isEqualTo(1);
            assertThat(logs.messages()).contains("lost audit event: " + event.toJson());
        }
    }

    @Test
    void aFullQueueMakesTheSubmitterWaitForRoom() throws Exception {
        // given a writer whose store holds its first batch and whose queue of 2 is then filled
        ControllableSink sink = sink().hold();
        AuditWriter writer =
                track(fastRetries(sink).queueCapacity(2).batchSize(1).build());
        writer.submit(Events.finished("full", 0));
        assertThat(sink.entered.await(10, TimeUnit.SECONDS)).isTrue();
        writer.submit(Events.finished("full", 1));
        writer.submit(Events.finished("full", 2));

        // when one more is submitted
        AtomicBoolean taken = new AtomicBoolean();
        Thread submitter = Thread.ofVirtual().start(() -> {
            try {
                taken.set(writer.submit(Events.finished("full", 3)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });

        // then it waits until the store takes a batch
        await().atMost(Duration.ofSeconds(10)).until(() -> submitter.getState() == Thread.State.TIMED_WAITING);
        assertThat(submitter.isAlive()).isTrue();
        sink.release();
        assertThat(submitter.join(Duration.ofSeconds(10))).isTrue();
        assertThat(taken).isTrue();
        assertThat(writer.close(Duration.ofSeconds(10))).isEqualTo(new AuditReport(4, 4, 0, 0, 0, 0, 0));
    }

    @Test
    void aFullQueueDropsAndCountsWithADroppingPolicy() throws Exception {
        ControllableSink sink = sink().hold();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AuditWriter writer = track(fastRetries(sink)
                .queueCapacity(1)
                .batchSize(1)
                .whenFull(Overflow.DROP_NEWEST)
                .meterRegistry(registry)
                .build());
        writer.submit(Events.finished("drop", 0));
        assertThat(sink.entered.await(10, TimeUnit.SECONDS)).isTrue();
        writer.submit(Events.finished("drop", 1));

        boolean taken = writer.submit(Events.finished("drop", 2));

        assertThat(taken).isFalse();
        assertThat(writer.report().dropped()).isEqualTo(1);
        assertThat(registry.get("sluice.audit.events")
                        .tag("outcome", "dropped")
                        .functionCounter()
                        .count())
                .isEqualTo(1);
        sink.release();
        assertThat(writer.close(Duration.ofSeconds(10))).isEqualTo(new AuditReport(3, 2, 0, 0, 0, 1, 0));
    }

    @Test
    void dropOldestMakesRoomByDroppingTheOldestQueuedEvent() throws Exception {
        ControllableSink sink = sink().hold();
        AuditWriter writer = track(fastRetries(sink)
                .queueCapacity(1)
                .batchSize(1)
                .whenFull(Overflow.DROP_OLDEST)
                .build());
        writer.submit(Events.finished("oldest", 0));
        assertThat(sink.entered.await(10, TimeUnit.SECONDS)).isTrue();
        AuditEvent oldest = Events.finished("oldest", 1);
        AuditEvent newest = Events.finished("oldest", 2);
        writer.submit(oldest);

        assertThat(writer.submit(newest)).isTrue();

        sink.release();
        writer.close(Duration.ofSeconds(10));
        assertThat(sink.store.events()).contains(newest).doesNotContain(oldest);
        assertThat(writer.report().dropped()).isEqualTo(1);
    }

    @Test
    void closeDuringAnOutageSpillsAtOnceInsteadOfWaitingOutRetryDelays() throws Exception {
        // given a store that is down and retry delays far longer than the close timeout
        ControllableSink sink = sink().down();
        AuditWriter writer = track(AuditWriter.builder(sink)
                .logEvents(false)
                .retry(5, Duration.ofSeconds(5), Duration.ofSeconds(10))
                .spillFile(dir.resolve("s.jsonl"))
                .build());
        for (AuditEvent e : events("closing", 10)) {
            writer.submit(e);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> sink.calls.get() > 0);

        // when the writer is closed with a short timeout
        long start = System.nanoTime();
        AuditReport report = writer.close(Duration.ofMillis(300));

        // then it returned well before the retries would have ended, with every event spilled
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(report).isEqualTo(new AuditReport(10, 0, 10, 0, 0, 0, 0));
        assertThat(spilledLines(dir.resolve("s.jsonl"))).hasSize(10);
        assertThat(sink.closed).isTrue();
    }

    @Test
    void closeGivesUpOnAHungStoreAndAccountsForEveryEvent() throws Exception {
        // given a store that hangs in its first call, with more events queued behind it
        ControllableSink sink = sink().hold();
        AuditWriter writer = track(fastRetries(sink)
                .batchSize(1)
                .spillFile(dir.resolve("hung.jsonl"))
                .build());
        writer.submit(Events.finished("hung", 0));
        assertThat(sink.entered.await(10, TimeUnit.SECONDS)).isTrue();
        for (AuditEvent e : events("queued", 5)) {
            writer.submit(e);
        }

        // when the writer is closed
        AuditReport report = writer.close(Duration.ofMillis(200));

        // then what was queued is spilled, only the batch held by the store is pending, and nothing is unaccounted for
        assertThat(report.spilled()).isEqualTo(5);
        assertThat(report.pending()).isEqualTo(1);
        assertThat(report.submitted())
                .isEqualTo(report.written() + report.spilled() + report.dropped() + report.pending());
        assertThat(Files.readAllLines(dir.resolve("hung.jsonl"))).hasSize(5);
    }

    @Test
    void eventsSubmittedAfterCloseAreRefusedAndCounted() throws Exception {
        AuditWriter writer = track(fastRetries(sink()).build());
        writer.close(Duration.ofSeconds(5));

        assertThat(writer.submit(Events.finished("late", 1))).isFalse();
        assertThat(writer.log(AuditEvent.streaming("m", "c")
                        .startedAt(Instant.EPOCH)
                        .duration(Duration.ofSeconds(1))
                        .itemCount(1)
                        .build()))
                .isFalse();
        assertThat(writer.report().dropped()).isEqualTo(2);
        assertThat(writer.close(Duration.ofSeconds(1)).submitted()).isEqualTo(2);
    }

    @Test
    void aSpillFileLeftByAnEarlierWriterIsReplayedOnStartSkippingAHalfWrittenLastLine() throws Exception {
        // given a spill file whose last line a crash cut short
        Path spill = dir.resolve("left.jsonl");
        List<AuditEvent> left = events("left", 50);
        StringBuilder text = jsonLines(left);
        String cut = Events.finished("cut", 1).toJson();
        text.append(cut, 0, cut.length() / 2);
        Files.writeString(spill, text, StandardCharsets.UTF_8);

        // when a writer starts on it, with the store up
        ControllableSink sink = sink();
        AuditWriter writer = track(fastRetries(sink).spillFile(spill).build());

        // then every whole line is replayed, once, and the file emptied
        await().atMost(Duration.ofSeconds(10)).until(() -> writer.report().replayed() == 50);
        assertThat(sink.store.events()).containsExactlyInAnyOrderElementsOf(left);
        assertThat(Files.size(spill)).isZero();
    }

    @Test
    void twoWritersCannotShareASpillFile() {
        Path spill = dir.resolve("shared.jsonl");
        track(fastRetries(sink()).spillFile(spill).build());

        assertThatThrownBy(() -> fastRetries(sink()).spillFile(spill).build())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is in use by another audit writer");
    }

    @Test
    void metersCountWhatHappenedAndAreRemovedOnClose() throws Exception {
        ControllableSink sink = sink().down();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AuditWriter writer = track(fastRetries(sink)
                .meterRegistry(registry)
                .spillFile(dir.resolve("m.jsonl"))
                .build());
        for (AuditEvent e : events("meters", 20)) {
            writer.submit(e);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> writer.report().spilled() == 20);
        assertThat(registry.get("sluice.audit.events")
                        .tag("outcome", "spilled")
                        .functionCounter()
                        .count())
                .isEqualTo(20);
        assertThat(registry.get("sluice.audit.queue.size").gauge().value()).isZero();

        sink.up();
        await().atMost(Duration.ofSeconds(10)).until(() -> writer.report().replayed() == 20);
        assertThat(registry.get("sluice.audit.events")
                        .tag("outcome", "written")
                        .functionCounter()
                        .count())
                .isEqualTo(20);

        writer.close(Duration.ofSeconds(5));
        assertThat(registry.find("sluice.audit.events").meters()).isEmpty();
        assertThat(registry.find("sluice.audit.queue.size").meters()).isEmpty();
    }

    @Test
    void logSpillsInsteadOfWaitingWhenItsThreadIsInterrupted() throws Exception {
        // given a full queue in front of a held store
        ControllableSink sink = sink().hold();
        AuditWriter writer = track(fastRetries(sink)
                .queueCapacity(1)
                .batchSize(1)
                .spillFile(dir.resolve("interrupt.jsonl"))
                .build());
        writer.submit(Events.finished("i", 0));
        assertThat(sink.entered.await(10, TimeUnit.SECONDS)).isTrue();
        writer.submit(Events.finished("i", 1));

        // when a thread blocked in log is interrupted
        AtomicReference<Boolean> result = new AtomicReference<>();
        AtomicBoolean stillInterrupted = new AtomicBoolean();
        Thread t = Thread.ofVirtual().start(() -> {
            result.set(writer.log(AuditEvent.streaming("GetUsersOnlineStream", "c")
                    .startedAt(Instant.EPOCH)
                    .duration(Duration.ofSeconds(1))
                    .itemCount(5)
                    .additionalData(Map.of())
                    .build()));
            stillInterrupted.set(Thread.currentThread().isInterrupted());
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> t.getState() == Thread.State.TIMED_WAITING);
        t.interrupt();

        // then it returns at once, its event spilled, the interrupt flag kept
        assertThat(t.join(Duration.ofSeconds(10))).isTrue();
        assertThat(result.get()).isTrue();
        assertThat(stillInterrupted).isTrue();
        assertThat(writer.report().spilled()).isEqualTo(1);
    }

    @Test
    void eachSubmittedEventIsLoggedAsOneLine() throws Exception {
        try (LogCapture logs = LogCapture.of(Slf4jAuditSink.DEFAULT_LOGGER)) {
            AuditWriter writer = track(AuditWriter.builder(sink()).build());
            writer.log(AuditEvent.streaming("GetUsersOnlineStream", "corr-42")
                    .startedAt(Instant.EPOCH)
                    .duration(Duration.ofMillis(1234))
                    .itemCount(500)
                    .build());
            writer.close(Duration.ofSeconds(5));

            assertThat(logs.messages())
                    .containsExactly("gRPC:Streaming GetUsersOnlineStream completed: 500 items in "
                            + "1234 ms (405.19 items/s) (correlation corr-42)");
        }
    }

    @Test
    void badOptionsAreRefusedNamingTheOptionTheValueAndTheRule() {
        AuditWriter.Builder b = AuditWriter.builder(sink());
        assertThatThrownBy(() -> b.queueCapacity(0)).hasMessage("queueCapacity must be at least 1, got 0");
        assertThatThrownBy(() -> b.batchSize(-1)).hasMessage("batchSize must be at least 1, got -1");
        assertThatThrownBy(() -> b.writeThreads(0)).hasMessage("writeThreads must be between 1 and 16, got 0");
        assertThatThrownBy(() -> b.writeThreads(17)).hasMessage("writeThreads must be between 1 and 16, got 17");
        assertThatThrownBy(() -> b.whenFull(Overflow.FAIL))
                .hasMessageStartingWith("whenFull must be BLOCK, DROP_NEWEST " + "or DROP_OLDEST, got FAIL");
        assertThatThrownBy(() -> b.retry(11, Duration.ofMillis(1), Duration.ofMillis(1)))
                .hasMessage("maxRetries must be between 0 and 10, got 11");
        assertThatThrownBy(() -> b.retry(1, Duration.ZERO, Duration.ofMillis(1)))
                .hasMessage("initialDelay must be positive, got PT0S");
        assertThatThrownBy(() -> b.retry(1, Duration.ofNanos(500_000), Duration.ofMillis(1)))
                .hasMessage(
                        "initialDelay must be at least 1 ms (the backoff counts whole milliseconds), got PT0.0005S");
        assertThatThrownBy(() -> b.retry(1, Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .hasMessage("maxDelay must not be below initialDelay, got maxDelay PT1S and initialDelay PT2S");
        assertThatThrownBy(() -> b.closeTimeout(Duration.ofSeconds(-1)))
                .hasMessage("closeTimeout must not be negative, got PT-1S");
    }

    /** The events as a spill file holds them: one JSON line each. */
    private static StringBuilder jsonLines(List<AuditEvent> events) {
        StringBuilder lines = new StringBuilder();
        events.forEach(e -> lines.append(e.toJson()).append('\n'));
        return lines;
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    @Test
    void closeReturnsOnceTheQueueIsWrittenWithoutWaitingOutAnIdlePeriod() throws Exception {
        // given a store whose first write waits for the test, so that the queue's layout is known: 24 events, then
        // close()'s wake-up marker, drained in batches of 10; the marker is taken in with the last, partial batch
        InMemoryAuditSink store = new InMemoryAuditSink();
        CountDownLatch firstWriteEntered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AuditSink gated = events -> {
            firstWriteEntered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            store.write(events);
        };
        AuditWriter writer =
                AuditWriter.builder(gated).batchSize(10).logEvents(false).build();
        List<AuditEvent> events = events("close", 25);
        writer.submit(events.get(0));
        firstWriteEntered.await();
        for (AuditEvent e : events.subList(1, 25)) {
            writer.submit(e);
        }
        // when
        long start = System.nanoTime();
        CompletableFuture<AuditReport> closing = new CompletableFuture<>();
        Thread closer = Thread.ofPlatform().start(() -> closing.complete(writer.close(Duration.ofSeconds(10))));
        // close() has queued its marker once it waits for the writer
        await().atMost(Duration.ofSeconds(5))
                .until(() ->
                        closer.getState() == Thread.State.TIMED_WAITING || closer.getState() == Thread.State.WAITING);
        release.countDown();
        AuditReport report = closing.get(10, TimeUnit.SECONDS);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        // then: the writes take milliseconds; the writer's idle wait is a whole second, which close() must not sit out
        assertThat(report.written()).isEqualTo(25);
        assertThat(took).isLessThan(Duration.ofMillis(900));
    }

    /**
     * The lines a spill file holds, with those a replay moved aside ({@code <file>.replaying}) while the store was
     * still down: the writer tries to replay during an outage, and a failed replay leaves its lines there.
     */
    private static List<String> spilledLines(Path spill) throws IOException {
        List<String> lines = new ArrayList<>();
        Path aside = spill.resolveSibling(spill.getFileName() + ".replaying");
        if (Files.exists(aside)) {
            lines.addAll(Files.readAllLines(aside));
        }
        lines.addAll(Files.readAllLines(spill));
        return lines;
    }
}
