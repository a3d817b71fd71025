/**
 * Apache Kafka for Sluice pipelines: consumer jobs that read topics through Kafka's consumer groups, so that
 * several copies of a job on several machines share a topic's partitions.
 */
package dev.sluice.pipeline.kafka;
