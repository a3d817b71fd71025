package dev.sluice.pipeline.internal.check;

import java.time.Duration;
import java.util.Objects;

/**
 * The checks every Sluice module makes at its doors, each one line, each failing with the same shape of message:
 * the argument's name, the rule, and the value it got ("capacity must be at least 1, got 0"). Not an API: the
 * package is exported only to Sluice's own modules.
 */
public final class Require {

    private Require() {}

    /** {@code value}, or a {@link NullPointerException} saying "{@code argument} must not be null". */
    public static <T> T nonNull(T value, String argument) {
        return Objects.requireNonNull(value, () -> argument + " must not be null");
    }

    /**
     * Nothing if {@code holds}, else an {@link IllegalArgumentException} saying "{@code argument} must
     * {@code rule}, got {@code value}".
     */
    public static void argument(boolean holds, String argument, String rule, Object value) {
        if (!holds) {
            throw new IllegalArgumentException(argument + " must " + rule + ", got " + value);
        }
    }

    /** {@code value} if it is at least {@code min}. */
    public static int atLeast(int value, int min, String argument) {
        argument(value >= min, argument, "be at least " + min, value);
        return value;
    }

    /** {@code value} if it is at least {@code min}. */
    public static long atLeast(long value, long min, String argument) {
        argument(value >= min, argument, "be at least " + min, value);
        return value;
    }

    /** {@code value} if it lies between {@code min} and {@code max}, both included. */
    public static int between(int value, int min, int max, String argument) {
        argument(value >= min && value <= max, argument, "be between " + min + " and " + max, value);
        return value;
    }

    /** {@code value} if it is not null and above zero. */
    public static Duration positive(Duration value, String argument) {
        nonNull(value, argument);
        argument(!value.isNegative() && !value.isZero(), argument, "be positive", value);
        return value;
    }

    /** {@code value} if it is not null and not below zero. */
    public static Duration notNegative(Duration value, String argument) {
        nonNull(value, argument);
        argument(!value.isNegative(), argument, "not be negative", value);
        return value;
    }

    /** {@code value} if it is not null and lies between {@code min} and {@code max}, both included. */
    public static Duration between(Duration value, Duration min, Duration max, String argument) {
        nonNull(value, argument);
        argument(
                value.compareTo(min) >= 0 && value.compareTo(max) <= 0,
                argument,
                "be between " + min + " and " + max,
                value);
        return value;
    }

    /** {@code value} if it is not null and holds more than white space. */
    public static String notBlank(String value, String argument) {
        nonNull(value, argument);
        argument(!value.isBlank(), argument, "not be blank", "'" + value + "'");
        return value;
    }
}
