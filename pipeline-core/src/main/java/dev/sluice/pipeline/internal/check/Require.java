package dev.sluice.pipeline.internal.check;

import java.time.Duration;

/**
 * The checks every Sluice module makes at its doors, each one line, each failing with the same shape of message:
 * the argument's name, the rule, and the value it got ("capacity must be at least 1, got 0"). A check that passes
 * allocates nothing (the message is built only on failure), so the checks may sit on hot paths. Not an API: the
 * package is exported only to Sluice's own modules.
 *
 * @since 0.1
 */
public final class Require {

    private Require() {}

    /**
     * {@code value}, or a {@link NullPointerException} saying "{@code argument} must not be null".
     *
     * @param <T> the argument's type
     * @param value the argument to check
     * @param argument the argument's name, as the message gives it
     * @return {@code value}, unchanged, so that a field can be assigned in the same line
     * @throws NullPointerException if {@code value} is {@code null}
     */
    public static <T> T nonNull(T value, String argument) {
        if (value == null) {
            throw new NullPointerException(argument + " must not be null");
        }
        return value;
    }

    /**
     * Nothing if {@code holds}, else an {@link IllegalArgumentException} saying "{@code argument} must
     * {@code rule}, got {@code value}".
     *
     * @param holds the outcome of the caller's own test
     * @param argument the argument's name, as the message gives it
     * @param rule what the argument must satisfy, worded to follow "must"
     * @param value the value the argument had, given in the message (only turned into text on failure)
     * @throws IllegalArgumentException if {@code holds} is false
     */
    public static void argument(boolean holds, String argument, String rule, Object value) {
        if (!holds) {
            throw failed(argument, rule, value);
        }
    }

    /**
     * {@code value} if it is at least {@code min}.
     *
     * @param value the argument to check
     * @param min the smallest value allowed
     * @param argument the argument's name, as the message gives it
     * @return {@code value}, unchanged
     * @throws IllegalArgumentException if the check fails, saying "{@code argument} must be at least {@code min}"
     */
    public static int atLeast(int value, int min, String argument) {
        if (value < min) {
            throw failed(argument, "be at least " + min, value);
        }
        return value;
    }

    /**
     * {@code value} if it is at least {@code min}.
     *
     * @param value the argument to check
     * @param min the smallest value allowed
     * @param argument the argument's name, as the message gives it
     * @return {@code value}, unchanged
     * @throws IllegalArgumentException if the check fails, saying "{@code argument} must be at least {@code min}"
     */
    public static long atLeast(long value, long min, String argument) {
        if (value < min) {
            throw failed(argument, "be at least " + min, value);
        }
        return value;
    }

    /**
     * {@code value} if it is not below zero.
     *
     * @param value the argument to check
     * @param argument the argument's name, as the message gives it
     * @return {@code value}, unchanged
     * @throws IllegalArgumentException if {@code value} is negative
     */
    public static long notNegative(long value, String argument) {
        if (value < 0) {
            throw failed(argument, "not be negative", value);
        }
        return value;
    }

    /**
     * {@code value} if it lies between {@code min} and {@code max}, both included.
     *
     * @param value the argument to check
     * @param min the smallest value allowed
     * @param max the largest value allowed
     * @param argument the argument's name, as the message gives it
     * @return {@code value}, unchanged
     * @throws IllegalArgumentException if {@code value} is outside the range
     */
    public static int between(int value, int min, int max, String argument) {
        if (value < min || value > max) {
            throw failed(argument, "be between " + min + " and " + max, value);
        }
        return value;
    }

    /**
     * {@code value} if it is not null and above zero.
     *
     * @param value the argument to check
     * @param argument the argument's name, as the message gives it
     * @return {@code value}, unchanged
     * @throws NullPointerException if {@code value} is {@code null}
     * @throws IllegalArgumentException if {@code value} is zero or negative
     */
    public static Duration positive(Duration value, String argument) {
        nonNull(value, argument);
        if (value.isNegative() || value.isZero()) {
            throw failed(argument, "be positive", value);
        }
        return value;
    }

    /**
     * {@code value} if it is not null and not below zero.
     *
     * @param value the argument to check
     * @param argument the argument's name, as the message gives it
     * @return {@code value}, unchanged
     * @throws NullPointerException if {@code value} is {@code null}
     * @throws IllegalArgumentException if {@code value} is negative
     */
    public static Duration notNegative(Duration value, String argument) {
        nonNull(value, argument);
        if (value.isNegative()) {
            throw failed(argument, "not be negative", value);
        }
        return value;
    }

    /**
     * {@code value} if it is not null and lies between {@code min} and {@code max}, both included.
     *
     * @param value the argument to check
     * @param min the shortest duration allowed
     * @param max the longest duration allowed
     * @param argument the argument's name, as the message gives it
     * @return {@code value}, unchanged
     * @throws NullPointerException if {@code value} is {@code null}
     * @throws IllegalArgumentException if {@code value} is outside the range
     */
    public static Duration between(Duration value, Duration min, Duration max, String argument) {
        nonNull(value, argument);
        if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
            throw failed(argument, "be between " + min + " and " + max, value);
        }
        return value;
    }

    /**
     * {@code value} if it is not null and holds more than white space.
     *
     * @param value the argument to check
     * @param argument the argument's name, as the message gives it
     * @return {@code value}, unchanged (not stripped)
     * @throws NullPointerException if {@code value} is {@code null}
     * @throws IllegalArgumentException if {@code value} is empty or only white space
     */
    public static String notBlank(String value, String argument) {
        nonNull(value, argument);
        if (value.isBlank()) {
            throw failed(argument, "not be blank", "'" + value + "'");
        }
        return value;
    }

    private static IllegalArgumentException failed(String argument, String rule, Object value) {
        return new IllegalArgumentException(argument + " must " + rule + ", got " + value);
    }
}
