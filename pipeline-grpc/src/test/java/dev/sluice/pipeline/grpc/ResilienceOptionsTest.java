package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ResilienceOptionsTest {

    @Test
    void defaultsAreTheDocumentedValues() {
        ResilienceOptions o = ResilienceOptions.defaults();
        assertThat(o.maxRetryAttempts()).isEqualTo(3);
        assertThat(o.initialRetryDelay()).isEqualTo(Duration.ofMillis(100));
        assertThat(o.maxRetryDelay()).isEqualTo(Duration.ofMillis(1000));
        assertThat(o.requestTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(o.jitter()).isZero();
        assertThat(o.retryableCodes()).containsExactlyInAnyOrder(Status.Code.UNAVAILABLE, Status.Code.INTERNAL);
    }

    @Test
    void retryRWaitsInitialTimesTwoToTheRMinusOneCappedAtTheMax() {
        // 100, 200, 400 ms by default: the first retry waits the initial delay itself
        ResilienceOptions o = ResilienceOptions.defaults();
        assertThat(IntStream.rangeClosed(1, 6).mapToObj(o::backoff).map(Duration::toMillis))
                .containsExactly(100L, 200L, 400L, 800L, 1000L, 1000L);
        ResilienceOptions slow = ResilienceOptions.builder()
                .initialRetryDelay(Duration.ofMillis(300))
                .maxRetryDelay(Duration.ofMillis(5000))
                .maxRetryAttempts(10)
                .build();
        assertThat(IntStream.rangeClosed(1, 10).mapToObj(slow::backoff).map(Duration::toMillis))
                .containsExactly(300L, 600L, 1200L, 2400L, 4800L, 5000L, 5000L, 5000L, 5000L, 5000L);
        assertThat(o.backoff(Integer.MAX_VALUE)).isEqualTo(Duration.ofMillis(1000));
        assertThatThrownBy(() -> o.backoff(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("retry must be at least 1 (the first retry), got 0");
    }

    @Test
    void aJitteredWaitIsDrawnWithinItsFactorOfTheScheduleAndNeverPastTheMax() {
        // given: jitter 0.5 and the default delays (retry 3: 400 ms; retry 4: 800 ms, whose upper end, 1200, is capped)
        ResilienceOptions o = ResilienceOptions.builder().jitter(0.5).build();

        // when
        List<Long> third = draws(o, 3);
        List<Long> fourth = draws(o, 4);

        // then: 400 × [0.5, 1.5], and 800 × [0.5, 1.5] capped at 1000, each end reached by some of 2,000 draws
        assertThat(third).allSatisfy(ms -> assertThat(ms).isBetween(200L, 600L));
        assertThat(third).anySatisfy(ms -> assertThat(ms).isLessThan(300L));
        assertThat(third).anySatisfy(ms -> assertThat(ms).isGreaterThan(500L));
        assertThat(fourth).allSatisfy(ms -> assertThat(ms).isBetween(400L, 1000L));
        assertThat(fourth).anySatisfy(ms -> assertThat(ms).isBetween(801L, 999L));
        assertThat(fourth).contains(1000L);
        // and without a jitter the wait is the schedule's
        assertThat(ResilienceOptions.defaults().jitteredBackoff(3)).isEqualTo(Duration.ofMillis(400));
    }

    @Test
    void onceTheLowerEndOfTheDrawReachesTheMaxEveryJitteredWaitIsTheMax() {
        // retry 6 without the cap: 3200 ms; × (1 − 0.5) = 1600, past the 1000 ms cap
        ResilienceOptions o = ResilienceOptions.builder().jitter(0.5).build();

        assertThat(draws(o, 6)).containsOnly(1000L);
        assertThat(o.jitteredBackoff(Integer.MAX_VALUE)).isEqualTo(Duration.ofMillis(1000));
    }

    private static List<Long> draws(ResilienceOptions options, int retry) {
        return IntStream.range(0, 2_000)
                .mapToObj(i -> options.jitteredBackoff(retry).toMillis())
                .toList();
    }

    @Test
    void theStatusTableIsConfigurable() {
        ResilienceOptions o = ResilienceOptions.builder()
                .retryableCodes(Status.Code.UNAVAILABLE, Status.Code.RESOURCE_EXHAUSTED)
                .build();
        assertThat(o.isRetryable(Status.Code.RESOURCE_EXHAUSTED)).isTrue();
        assertThat(o.isRetryable(Status.Code.INTERNAL)).isFalse();
        assertThat(ResilienceOptions.defaults().isRetryable(Status.Code.DEADLINE_EXCEEDED))
                .isFalse();
        assertThatThrownBy(() -> ResilienceOptions.builder()
                        .retryableCodes(Status.Code.OK)
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("retryableCodes must not contain OK, got [OK]");
    }

    static Stream<Arguments> justOutside() {
        return Stream.of(
                bad(b -> b.maxRetryAttempts(0), "maxRetryAttempts must be between 1 and 10, got 0"),
                bad(b -> b.maxRetryAttempts(11), "maxRetryAttempts must be between 1 and 10, got 11"),
                bad(
                        b -> b.initialRetryDelay(Duration.ofMillis(49)),
                        "initialRetryDelay must be between 50 ms and 5000 ms, got 49 ms"),
                bad(
                        b -> b.initialRetryDelay(Duration.ofMillis(5001)),
                        "initialRetryDelay must be between 50 ms and 5000 ms, got 5001 ms"),
                bad(
                        b -> b.maxRetryDelay(Duration.ofMillis(499)),
                        "maxRetryDelay must be between 500 ms and 10000 ms, got 499 ms"),
                bad(
                        b -> b.maxRetryDelay(Duration.ofMillis(10_001)),
                        "maxRetryDelay must be between 500 ms and 10000 ms, got 10001 ms"),
                bad(
                        b -> b.requestTimeout(Duration.ofMillis(9_999)),
                        "requestTimeout must be between 10 s and 300 s, got 9.999 s"),
                bad(
                        b -> b.requestTimeout(Duration.ofSeconds(301)),
                        "requestTimeout must be between 10 s and 300 s, got 301 s"),
                bad(b -> b.jitter(-0.01), "jitter must be between 0.0 and 1.0, got -0.01"),
                bad(b -> b.jitter(1.01), "jitter must be between 0.0 and 1.0, got 1.01"),
                bad(b -> b.jitter(Double.NaN), "jitter must be between 0.0 and 1.0, got NaN"));
    }

    private static Arguments bad(UnaryOperator<ResilienceOptions.Builder> change, String message) {
        return Arguments.of(change, message);
    }

    @ParameterizedTest
    @MethodSource("justOutside")
    void anOptionJustOutsideItsRangeFailsWithItsNameValueAndRange(
            UnaryOperator<ResilienceOptions.Builder> change, String message) {
        ResilienceOptions.Builder builder = change.apply(ResilienceOptions.builder());
        assertThatThrownBy(builder::build)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }

    @Test
    void theEndsOfEachRangeAreAccepted() {
        for (var b : List.of(
                ResilienceOptions.builder()
                        .maxRetryAttempts(1)
                        .initialRetryDelay(Duration.ofMillis(50))
                        .maxRetryDelay(Duration.ofMillis(500))
                        .requestTimeout(Duration.ofSeconds(10))
                        .jitter(0.0),
                ResilienceOptions.builder()
                        .maxRetryAttempts(10)
                        .initialRetryDelay(Duration.ofMillis(5000))
                        .maxRetryDelay(Duration.ofMillis(10_000))
                        .requestTimeout(Duration.ofSeconds(300))
                        .jitter(1.0))) {
            assertThat(b.build()).isNotNull();
        }
        assertThat(ResilienceOptions.defaults().toBuilder()
                        .maxRetryAttempts(7)
                        .build()
                        .maxRetryAttempts())
                .isEqualTo(7);
    }

    @Test
    void nullsAreRefusedByName() {
        assertThatThrownBy(() -> ResilienceOptions.builder().requestTimeout(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("requestTimeout must not be null");
        assertThatThrownBy(() -> ResilienceOptions.builder().sleeper(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("sleeper must not be null");
    }
}
