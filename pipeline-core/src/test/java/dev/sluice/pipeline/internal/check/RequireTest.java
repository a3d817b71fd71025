package dev.sluice.pipeline.internal.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RequireTest {

    @Test
    void aPassingCheckReturnsTheValue() {
        assertThat(Require.atLeast(3, 1, "capacity")).isEqualTo(3);
        assertThat(Require.between(5, 1, 10, "attempts")).isEqualTo(5);
        assertThat(Require.positive(Duration.ofMillis(1), "timeout")).isEqualTo(Duration.ofMillis(1));
        assertThat(Require.notNegative(Duration.ZERO, "grace")).isEqualTo(Duration.ZERO);
        assertThat(Require.notNegative(0L, "limit")).isZero();
        assertThat(Require.notBlank("users", "name")).isEqualTo("users");
        assertThat(Require.nonNull("x", "item")).isEqualTo("x");
    }

    @Test
    void aFailingCheckNamesTheArgumentTheRuleAndTheValue() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Require.atLeast(0, 1, "capacity"))
                .withMessage("capacity must be at least 1, got 0");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Require.atLeast(-1L, 0L, "limit"))
                .withMessage("limit must be at least 0, got -1");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Require.notNegative(-1L, "limit"))
                .withMessage("limit must not be negative, got -1");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Require.argument(false, "overflow", "not be DROP_OLDEST", "DROP_OLDEST"))
                .withMessage("overflow must not be DROP_OLDEST, got DROP_OLDEST");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Require.between(11, 1, 10, "maxRetryAttempts"))
                .withMessage("maxRetryAttempts must be between 1 and 10, got 11");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Require.positive(Duration.ZERO, "maxWait"))
                .withMessage("maxWait must be positive, got PT0S");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Require.notNegative(Duration.ofSeconds(-1), "grace"))
                .withMessage("grace must not be negative, got PT-1S");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Require.between(Duration.ofSeconds(2), Duration.ZERO, Duration.ofSeconds(1), "delay"))
                .withMessage("delay must be between PT0S and PT1S, got PT2S");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> Require.notBlank(" ", "pipelineName"))
                .withMessage("pipelineName must not be blank, got ' '");
        assertThatNullPointerException()
                .isThrownBy(() -> Require.positive(null, "interval"))
                .withMessage("interval must not be null");
        assertThatNullPointerException()
                .isThrownBy(() -> Require.nonNull(null, "sink"))
                .withMessage("sink must not be null");
    }
}
