package dev.sluice.pipeline;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs a contract test once per channel implementation and capacity (see {@link ChannelFixtures}), with a
 * timeout that turns a hang into a failure. The test method takes {@code (ChannelFixtures.Impl impl, int capacity)}.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@ParameterizedTest(name = "{0} capacity {1}")
@MethodSource("dev.sluice.pipeline.ChannelFixtures#implsAndCapacities")
@Timeout(20)
public @interface ChannelTest {}
