/**
 * JMH benchmarks of Sluice against the libraries a user would pick instead, and against the physical limit of a
 * hand-off (issue 7). Every benchmark checks what it moved (a wrong count or sum throws), so a broken run cannot
 * look fast; scores are nanoseconds per item, except the audit benchmark's, which are events per second.
 *
 * <ul>
 *   <li>{@link dev.sluice.pipeline.benchmarks.HandOffBenchmark} and
 *       {@link dev.sluice.pipeline.benchmarks.SpinningLimitBenchmark}: benchmark 1, one producer, one consumer.</li>
 *   <li>{@link dev.sluice.pipeline.benchmarks.ManyToManyBenchmark}: benchmark 2, four and four.</li>
 *   <li>{@link dev.sluice.pipeline.benchmarks.ChainBenchmark}: benchmark 3, 100 stages, per hop.</li>
 *   <li>{@link dev.sluice.pipeline.benchmarks.ThreeStageBenchmark}: benchmark 4, source → map → sum.</li>
 *   <li>{@link dev.sluice.pipeline.benchmarks.MapConcurrentBenchmark}: benchmark 5, a blocking call n at a time.</li>
 *   <li>{@link dev.sluice.pipeline.benchmarks.GrpcSourceBenchmark}: benchmark 6, a server stream of 1,000,000 small
 *       items in-process and over Netty: the gRPC source against the async and blocking stubs.</li>
 *   <li>{@link dev.sluice.pipeline.benchmarks.AuditWriterBenchmark}: benchmark 7, audit events into PostgreSQL and
 *       SQLite through the asynchronous writer, against the store's own ceiling for the same rows (one
 *       {@code INSERT ... SELECT} from a staging table) and one insert per event; scored in events per second.</li>
 *   <li>{@link dev.sluice.pipeline.benchmarks.EndToEndBenchmark}: benchmark 14, the examples' demo job (a gRPC
 *       stream, a blocking enrichment 64 at a time, batches into SQLite) against each of its parts alone.</li>
 *   <li>{@link dev.sluice.pipeline.benchmarks.QueueFlavourBenchmark}: JCTools' Unsafe queues against their atomic
 *       variants inside the channel; {@link dev.sluice.pipeline.benchmarks.ChannelHotPathBenchmark}: the
 *       uncontended send and receive, for {@code -prof gc}.</li>
 * </ul>
 *
 * <p>The workloads ({@link dev.sluice.pipeline.benchmarks.HandOff}, {@code StageChain}, {@code ThreeStages},
 * {@code ConcurrentMapping}, {@code GrpcStreams}, {@code AuditWrites}, {@code DemoJob}) are plain static methods, so the tests run every
 * one of them on small inputs and the benchmark classes stay declarations of what is measured.
 */
package dev.sluice.pipeline.benchmarks;
