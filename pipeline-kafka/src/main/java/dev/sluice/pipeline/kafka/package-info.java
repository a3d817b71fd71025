/**
 * Apache Kafka for Sluice pipelines: consumer jobs that read topics through Kafka's consumer groups, so that
 * several copies of a job on several machines share a topic's partitions.
 *
 * <p>Incubating: may change in a minor release (docs/compatibility.md).
 *
 * <p>Nullness: everything here is non-null unless annotated {@code @Nullable} (JSpecify's {@code @NullMarked}).
 *
 * @since 0.1
 */
@NullMarked
package dev.sluice.pipeline.kafka;

import org.jspecify.annotations.NullMarked;
