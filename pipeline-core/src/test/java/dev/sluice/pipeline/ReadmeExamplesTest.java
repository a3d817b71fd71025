package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The README's two complete examples with a local source (gRPC and audit have their own modules): a stream
 * processed item by item with an account of the run, and a fast producer held back by a slow consumer through a
 * bounded link. The README shows these snippets; this test keeps them compiling and true.
 */
@Timeout(60)
class ReadmeExamplesTest {

    record User(long id, String name) {}

    /** Example 1: stream every user, process each, keep going past a bad one, and account for the run. */
    @Test
    void example1CompleteStreamingWithPerItemErrorHandling() throws Exception {
        List<User> users = LongStream.range(0, 1_000)
                .mapToObj(i -> new User(i, "user-" + i))
                .toList();
        List<Long> processed = new CopyOnWriteArrayList<>();

        // --- README: example 1 ---
        PipelineResult<Long> result = Pipeline.from(Source.from(users))
                .pipelineName("GetUsersOnlineStream")
                .to(Sink.<User>forEach(user -> {
                            if (user.id() % 100 == 99) {
                                throw new IllegalStateException("cannot process user " + user.id());
                            }
                            processed.add(user.id()); // ProcessUserAsync
                        })
                        .onError(ErrorPolicy.skip())) // log, count, go on with the rest
                .run();
        PipelineSummary summary = result.summary(); // count, duration, items/s, correlation ID
        // --- end ---

        assertThat(processed).hasSize(990);
        assertThat(summary.stage("forEach").orElseThrow().skipped()).isEqualTo(10);
        assertThat(summary.itemCount()).isEqualTo(1_000);
        assertThat(summary.correlationId()).isNotBlank();
        assertThat(summary.outcome()).isEqualTo(Outcome.COMPLETED);
    }

    /** Example 2: a fast producer, a bounded channel of 500, a slow consumer: memory stays bounded. */
    @Test
    void example2BackpressureWithASlowConsumer() throws Exception {
        AtomicLong produced = new AtomicLong();
        AtomicLong consumed = new AtomicLong();
        AtomicLong maxAhead = new AtomicLong();
        Source<Long> fastStream = emitter -> {
            for (long i = 0; i < 2_000; i++) {
                emitter.emit(i);
                produced.incrementAndGet();
            }
        };

        // --- README: example 2 ---
        PipelineResult<Long> result = Pipeline.from(fastStream)
                .buffer(500) // Channel.CreateBounded(500), FullMode.Wait
                .to(Sink.forEach(item -> {
                    Thread.sleep(Duration.ofNanos(100_000)); // ProcessItemWithDelayAsync
                    maxAhead.accumulateAndGet(produced.get() - consumed.incrementAndGet(), Math::max);
                }))
                .run(Duration.ofMinutes(1)); // the CancellationTokenSource's timeout
        // --- end ---

        assertThat(result.value()).isEqualTo(2_000);
        // The link holds 500, the sink's current group up to 64: the producer waits beyond that.
        assertThat(maxAhead.get()).isLessThanOrEqualTo(500 + Pipeline.TRANSFER_BATCH);
    }
}
