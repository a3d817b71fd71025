package dev.sluice.pipeline.kafka;

import dev.sluice.pipeline.internal.check.Require;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.kafka.common.config.ConfigException;

/** The checks the Kafka builders share on the client settings they are given. */
final class BuilderSettings {

    private BuilderSettings() {}

    /**
     * Puts a client setting given to a builder into {@code properties}, after checking that it names a setting the
     * builder does not own.
     *
     * @param owned the settings the builder sets itself
     * @param why why those are owned, in parentheses after the list in the error message
     * @throws IllegalArgumentException if {@code name} is blank or owned, or {@code value} null
     */
    static void put(Map<String, Object> properties, Set<String> owned, String why, String name, Object value) {
        Require.notBlank(name, "name");
        Require.nonNull(value, "value");
        Require.argument(!owned.contains(name), "name", "not be one of " + owned + " (" + why + ")", name);
        properties.put(name, value);
    }

    /**
     * Checks that a required option of a builder is set.
     *
     * @throws IllegalStateException naming {@code builder}'s {@code option} if {@code value} is null
     */
    static void requireSet(Object value, String builder, String option) {
        if (value == null) {
            throw new IllegalStateException(
                    option + " must be set before build(), got nothing (" + builder + "." + option + ")");
        }
    }

    /**
     * Parses client settings with Kafka's own config class.
     *
     * @param kind {@code "producer"} or {@code "consumer"}, for the error message
     * @param given the settings the user gave, for the error message
     * @throws IllegalArgumentException if Kafka rejects the settings
     */
    static <C> C parse(String kind, Map<String, Object> given, Supplier<C> config) {
        try {
            return config.get();
        } catch (ConfigException e) {
            throw new IllegalArgumentException(
                    "property values must be valid Kafka " + kind + " settings, got " + given + ": " + e.getMessage(),
                    e);
        }
    }
}
