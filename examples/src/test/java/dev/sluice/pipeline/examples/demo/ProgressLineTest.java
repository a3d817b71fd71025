package dev.sluice.pipeline.examples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.pipeline.PipelineSnapshot;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The demo's progress line on a terminal: one line, redrawn, with a time left only once the rate has settled. */
class ProgressLineTest {

    private final ByteArrayOutputStream terminal = new ByteArrayOutputStream();
    private final PrintStream stream = new PrintStream(terminal, true, StandardCharsets.UTF_8);
    private final AtomicLong written = new AtomicLong();
    private final ProgressLine progress =
            new ProgressLine(stream, 1_000_000, written::get, () -> 0, new StatusLine(stream, stream, 200));

    private static PipelineSnapshot at(long millis) {
        return new PipelineSnapshot(
                "demo", "c", UUID.randomUUID(), Instant.EPOCH, Duration.ofMillis(millis), List.of(), Map.of());
    }

    private String shown() {
        return TerminalScreen.of(terminal.toString(StandardCharsets.UTF_8)).getLast();
    }

    @Test
    void showsNoTimeLeftUntilTheRateHasSettledAndThenAtEveryUpdate() {
        // given a steady 50,000 users a second, updated every 200 ms as the demo's monitor does
        for (long ms = 200; ms <= 12_000; ms += 200) {
            written.set(50 * ms);
            // when
            progress.update(at(ms));
            // then: no time left for three seconds, then one at every update (the samples kept are enough)
            if (ms <= 3_000) {
                assertThat(shown()).as("at %d ms", ms).endsWith("| ETA --");
            } else {
                long left = (long) Math.ceil((1_000_000 - 50.0 * ms) / 50_000);
                assertThat(shown()).as("at %d ms", ms).endsWith("| ETA " + left + "s");
            }
        }
        assertThat(TerminalScreen.of(terminal.toString(StandardCharsets.UTF_8))).hasSize(1);
    }

    @Test
    void theLastLineSaysWhatWasWrittenByTheEnd() {
        // given a last update before the last batches were written
        written.set(980_000);
        progress.update(at(19_600));
        // when the run ends with every user written
        written.set(1_000_000);
        progress.end(Duration.ofMillis(20_000));
        // then the line left on the screen says so
        assertThat(shown())
                .isEqualTo("users 1,000,000/1,000,000 100.0% | 50,000/s | links 0% full | server ahead 0 | ETA 0s");
    }
}
