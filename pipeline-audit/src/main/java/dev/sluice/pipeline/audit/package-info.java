/**
 * The audit trail of Sluice: one durable record per pipeline run or gRPC stream, written without ever slowing down or
 * failing the pipeline.
 *
 * <ul>
 *   <li>{@link dev.sluice.pipeline.audit.AuditEvent}: the record (type, method, correlation ID, times, items, items per
 *       second, outcome, error, retries, resumes, additional data as JSON).</li>
 *   <li>{@link dev.sluice.pipeline.audit.AuditSink}: where events are stored: {@link dev.sluice.pipeline.audit.JdbcAuditSink}
 *       (SQLite, PostgreSQL, MariaDB or MySQL), {@link dev.sluice.pipeline.audit.Slf4jAuditSink},
 *       {@link dev.sluice.pipeline.audit.InMemoryAuditSink}, or several at once.</li>
 *   <li>{@link dev.sluice.pipeline.audit.AuditWriter}: the asynchronous writer in front of a sink: bounded queue, JDBC
 *       batches, retry, spill file, replay, a report on close.</li>
 *   <li>{@link dev.sluice.pipeline.audit.AuditListener}: one event per run of a pipeline.</li>
 *   <li>{@link dev.sluice.pipeline.audit.AuditLookup}: reading the trail back by correlation ID or by type and time.</li>
 * </ul>
 *
 * The sub-package {@code internal} is not part of the API.
 *
 * <p>Nullness: everything here is non-null unless annotated {@code @Nullable} (JSpecify's {@code @NullMarked}).
 *
 * @since 0.1
 */
@NullMarked
package dev.sluice.pipeline.audit;

import org.jspecify.annotations.NullMarked;
