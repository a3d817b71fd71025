package dev.sluice.pipeline.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.pipeline.internal.check.Nanos;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class NanosAndStackDumpTest {

    @Test
    void saturatedNanosAreSafeToAddToNanoTime() {
        // given durations from negative to beyond what a long of nanoseconds holds
        Duration[] far = {
            Duration.ofNanos(Long.MAX_VALUE), Duration.ofSeconds(Long.MAX_VALUE), Duration.ofDays(365L * 100)
        };

        // then: negative is 0, ordinary durations are exact, and anything far is capped so the sum cannot overflow
        assertThat(Nanos.saturated(Duration.ofMillis(-5))).isZero();
        assertThat(Nanos.saturated(Duration.ZERO)).isZero();
        assertThat(Nanos.saturated(Duration.ofMillis(250))).isEqualTo(250_000_000L);
        for (Duration d : far) {
            long nanos = Nanos.saturated(d);
            assertThat(nanos).as("%s", d).isEqualTo(Nanos.FOREVER);
            assertThat(System.nanoTime() + nanos).as("nanoTime() + %s", d).isPositive();
        }
    }

    @Test
    void aStackDumpShowsTheTopFramesOneALine() {
        // given a stack deeper than a dump shows
        StackTraceElement[] stack = new StackTraceElement[StackDump.FRAMES + 10];
        for (int i = 0; i < stack.length; i++) {
            stack[i] = new StackTraceElement("Waiter", "frame" + i, "Waiter.java", i + 1);
        }

        // when
        String dump = StackDump.of(stack);

        // then
        assertThat(dump).startsWith("\n\tat Waiter.frame0(Waiter.java:1)");
        assertThat(dump.split("\n\tat ", -1)).hasSize(StackDump.FRAMES + 1);
        assertThat(dump).contains("frame" + (StackDump.FRAMES - 1)).doesNotContain("frame" + StackDump.FRAMES);
        assertThat(StackDump.of(new StackTraceElement[0])).isEmpty();
    }
}
