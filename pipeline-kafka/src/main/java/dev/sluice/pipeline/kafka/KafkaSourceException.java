package dev.sluice.pipeline.kafka;

import java.io.Serial;

/**
 * A {@link KafkaSource} could not go on: Kafka could not be reached in time, a topic is missing, the consumer
 * failed, or a record could not be deserialised under the {@link dev.sluice.pipeline.ErrorPolicy#fail() fail}
 * policy. The run fails with it (it is the cause of the run's
 * {@link dev.sluice.pipeline.PipelineFailedException}); the message says what failed and where, and the cause, if
 * any, is the consumer's exception.
 *
 * <p>Incubating: may change in a minor release.
 *
 * @since 0.1
 */
public final class KafkaSourceException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    /**
     * An exception with a message and the exception that caused it.
     *
     * @param message what failed, and where
     * @param cause the consumer's exception, or null
     * @since 0.1
     */
    public KafkaSourceException(String message, Throwable cause) {
        super(message, cause);
    }
}
