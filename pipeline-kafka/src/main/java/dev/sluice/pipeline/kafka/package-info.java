/**
 * Apache Kafka for Sluice pipelines: consumer jobs that read topics through Kafka's consumer groups, so that several
 * copies of a job on several machines share a topic's partitions ({@link dev.sluice.pipeline.kafka.KafkaSource}),
 * a producer sink ({@link dev.sluice.pipeline.kafka.KafkaSink}) with transactions for consume-process-produce jobs,
 * and a dead-letter topic ({@link dev.sluice.pipeline.kafka.KafkaDeadLetterTopic}).
 *
 * <p><b>Incubating:</b> this package's API may still change in a minor release (docs/compatibility.md).
 *
 * <p>Nullness: everything here is non-null unless annotated {@code @Nullable} (JSpecify's {@code @NullMarked}).
 *
 * @since 0.1
 */
@NullMarked
package dev.sluice.pipeline.kafka;

import org.jspecify.annotations.NullMarked;
