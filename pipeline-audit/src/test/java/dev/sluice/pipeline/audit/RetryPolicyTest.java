package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.pipeline.audit.internal.RetryPolicy;
import java.time.Duration;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The writer's retry schedule: doubling from the initial delay, capped, in whole milliseconds. */
@Timeout(10)
class RetryPolicyTest {

    @Test
    void theDefaultScheduleDoublesFromAHundredMillisecondsUpToASecond() {
        // given the builder's defaults
        RetryPolicy policy = new RetryPolicy(3, Duration.ofMillis(100), Duration.ofSeconds(1));

        // when the waits before retries 1 to 6 are asked for, then
        assertThat(IntStream.rangeClosed(1, 6)
                        .mapToLong(r -> policy.delayNanos(r) / 1_000_000)
                        .toArray())
                .containsExactly(100, 200, 400, 800, 1000, 1000);
    }

    @Test
    void aVeryLateRetryWaitsTheCapWithoutOverflowing() {
        RetryPolicy policy = new RetryPolicy(10, Duration.ofMillis(1), Duration.ofMillis(250));

        assertThat(policy.delayNanos(Integer.MAX_VALUE))
                .isEqualTo(Duration.ofMillis(250).toNanos());
    }

    @Test
    void withoutRetriesKeepsTheDelays() {
        RetryPolicy policy = new RetryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(100)).withoutRetries();

        assertThat(policy.maxRetries()).isZero();
        assertThat(policy.maxDelay()).isEqualTo(Duration.ofMillis(100));
        assertThat(policy.delayNanos(2)).isEqualTo(Duration.ofMillis(20).toNanos());
    }
}
