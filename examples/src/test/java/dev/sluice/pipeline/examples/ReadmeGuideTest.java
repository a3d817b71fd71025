package dev.sluice.pipeline.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.Channel;
import dev.sluice.pipeline.ErrorPolicy;
import dev.sluice.pipeline.Fork;
import dev.sluice.pipeline.Outcome;
import dev.sluice.pipeline.Overflow;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineCancelledException;
import dev.sluice.pipeline.PipelineHandle;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Scope;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The README's snippets for the core, each inside a test that runs it (the gRPC and audit snippets live in those
 * modules' own README tests). {@link ReadmeSnippetsTest} checks that every Java block of the README appears in
 * the project's sources, so a snippet cannot drift from code that compiles.
 */
@Timeout(60)
class ReadmeGuideTest {

    private static final Logger log = LoggerFactory.getLogger(ReadmeGuideTest.class);

    record User(long id, String name, boolean active) {
        User normalize() {
            return new User(id, name.trim(), active);
        }
    }

    record Order(long id) {}

    record Page(User user, List<Order> orders) {}

    record Line(String text) {
        static Line parse(String text) {
            return new Line(text);
        }
    }

    record Quote(String symbol, double price) {}

    private final List<User> users = LongStream.range(0, 2_000)
            .mapToObj(i -> new User(i, " user " + i + " ", i % 2 == 0))
            .toList();
    private final AtomicLong saved = new AtomicLong();

    private User enrich(User user) throws InterruptedException {
        Thread.sleep(1); // a remote call
        return user;
    }

    private void saveAll(List<User> batch) {
        saved.addAndGet(batch.size());
    }

    private User loadUser(long id) {
        return new User(id, "user " + id, true);
    }

    private List<Order> ordersOf(long id) {
        return List.of(new Order(id));
    }

    @Test
    void theHeadlineExample() throws Exception {
        var repository = this;
        PipelineResult<Long> result = Pipeline.from(Source.from(users))
                .pipelineName("users-bulk")
                .map(User::normalize)
                .mapConcurrent(16, this::enrich) // 16 blocking calls at once, results in input order
                .filter(User::active)
                .batch(100, Duration.ofMillis(50)) // List<User>, at most 50 ms late
                .to(Sink.forEach(repository::saveAll))
                .run(Duration.ofMinutes(5));

        assertThat(saved.get()).isEqualTo(1_000);
        assertThat(result.itemCount()).isEqualTo(1_000);
    }

    @Test
    void channels() throws Exception {
        Channel<Order> orders = Channel.bounded(1_000); // waits when full
        Channel<Quote> quotes = Channel.bounded(1, Overflow.DROP_OLDEST, dropped -> log.debug("stale {}", dropped));

        orders.send(new Order(1));
        quotes.send(new Quote("ACME", 1.0));
        quotes.send(new Quote("ACME", 2.0));
        assertThat(orders.receive()).isEqualTo(new Order(1));
        assertThat(quotes.receive().price()).isEqualTo(2.0);
        assertThat(quotes.droppedCount()).isEqualTo(1);
    }

    Page page(long id) throws Exception {
        try (Scope scope = Scope.open()) {
            Fork<User> user = scope.fork("user", () -> loadUser(id));
            Fork<List<Order>> orders = scope.fork("orders", () -> ordersOf(id));
            scope.join(); // both done, or the first failure rethrown
            return new Page(user.result(), orders.result());
        }
    }

    @Test
    void scopes() throws Exception {
        assertThat(page(7).orders()).containsExactly(new Order(7));
    }

    @Test
    void aSourceBody(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("lines.txt");
        Files.write(path, List.of("a", "b", "c"));

        Source<Line> lines = emitter -> {
            try (var reader = Files.newBufferedReader(path)) {
                for (String l; (l = reader.readLine()) != null; ) {
                    emitter.emit(Line.parse(l)); // waits while the pipeline is full
                }
            }
        };

        assertThat(Pipeline.from(lines).to(Sink.toList()).run().value())
                .extracting(Line::text)
                .containsExactly("a", "b", "c");
    }

    @Test
    void cancellationAndGracefulStop() throws Exception {
        Source<User> events = emitter -> {
            for (long i = 0; ; i++) {
                emitter.emit(new User(i, "u", true));
            }
        };
        List<User> written = new CopyOnWriteArrayList<>();

        PipelineHandle<Long> job = Pipeline.from(events)
                .pipelineName("events-consumer")
                .to(Sink.forEach(written::add))
                .start();
        // ... later, from a shutdown hook or another thread:
        job.stop(Duration.ofSeconds(10)); // stop the source, drain what is inside, cancel after 10 s
        PipelineResult<Long> result = job.await();

        assertThat(result.outcome()).isEqualTo(Outcome.STOPPED);
        assertThat(result.value()).isEqualTo(written.size());

        PipelineHandle<Long> other = Pipeline.from(events).to(Sink.count()).start();
        await().atMost(Duration.ofSeconds(5)).until(() -> other.snapshot().itemCount() > 0);
        other.cancel(); // abortive: every stage interrupted, items inside abandoned
        try {
            other.await();
        } catch (PipelineCancelledException e) {
            log.info("cancelled after {} items", e.summary().itemCount());
        }
        assertThat(other.isDone()).isTrue();
    }

    @Test
    void theThreeBackpressureStrategies() throws Exception {
        Source<User> stream = Source.from(users);
        List<User> processed = new CopyOnWriteArrayList<>();
        AtomicLong batches = new AtomicLong();

        // 1. Process immediately: the sink's pace is the stream's pace.
        Pipeline.from(stream).to(Sink.forEach(processed::add)).run();

        // 2. A bounded channel between a producer and a slow consumer.
        Pipeline.from(stream)
                .buffer(1_000) // Channel.CreateBounded(1000), FullMode.Wait
                .to(Sink.forEach(user -> Thread.sleep(Duration.ofNanos(10_000))))
                .run();

        // 3. Batches: 100 at a time, and no batch waits more than 50 ms for its 100th item.
        Pipeline.from(stream)
                .batch(100, Duration.ofMillis(50))
                .to(Sink.forEach(batch -> batches.incrementAndGet()))
                .run();

        assertThat(processed).hasSize(2_000);
        assertThat(batches.get()).isEqualTo(20);
    }

    @Test
    void monitoring() throws Exception {
        Pipeline.from(Source.from(users))
                .monitor(
                        Duration.ofSeconds(5),
                        s -> log.info("{} items, {} items/s", s.itemCount(), Math.round(s.itemsPerSecond())))
                .to(Sink.count())
                .run();
    }

    @Test
    void partialFailure() throws Exception {
        List<dev.sluice.pipeline.DeadLetter> rejected = new CopyOnWriteArrayList<>();

        PipelineResult<Long> result = Pipeline.from(Source.from(users))
                .map(user -> {
                    if (user.id() % 500 == 0) {
                        throw new IllegalArgumentException("bad user " + user.id());
                    }
                    return user;
                })
                .onError(ErrorPolicy.deadLetter(rejected::add)) // or ErrorPolicy.skip(), or fail (the default)
                .to(Sink.count())
                .run();

        assertThat(result.value()).isEqualTo(1_996);
        assertThat(rejected).hasSize(4);
    }

    @Test
    void metrics() throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();

        Pipeline.from(Source.from(users))
                .pipelineName("users-bulk")
                .meterRegistry(registry)
                .to(Sink.count())
                .run();

        assertThat(registry.find("sluice.pipeline.items")
                        .tags("pipeline", "users-bulk", "stage", "count", "outcome", "processed")
                        .functionCounter()
                        .count())
                .isEqualTo(2_000);
    }

    @Test
    void batchImportFromAFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("big.csv");
        try (BufferedWriter w = Files.newBufferedWriter(file)) {
            for (int i = 0; i < 1_000; i++) {
                w.write("line " + i);
                w.newLine();
            }
        }
        assertThat(Pipeline.from(Source.from(Files.lines(file)))
                        .to(Sink.count())
                        .run()
                        .value())
                .isEqualTo(1_000);
    }
}
