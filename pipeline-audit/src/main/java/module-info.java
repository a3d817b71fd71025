/**
 * The audit trail of Sluice: one durable record per pipeline run or gRPC stream, written without slowing down or
 * failing the pipeline.
 *
 * <p>Exports its API package only; {@code dev.sluice.pipeline.audit.internal} is not exported. JDBC drivers are not
 * required: {@code java.sql.DriverManager} finds the one the application puts on its module path or class path
 * (sqlite-jdbc, PostgreSQL's, MariaDB's) through its service lookup.
 *
 * @since 0.1
 */
module dev.sluice.pipeline.audit {
    // Types of these modules appear in the API: PipelineListener and friends; DataSource; slf4j's Logger.
    requires transitive dev.sluice.pipeline;
    requires transitive java.sql;
    requires transitive org.slf4j;
    requires com.fasterxml.jackson.databind;
    requires com.fasterxml.jackson.datatype.jsr310;
    requires io.github.resilience4j.core;
    // Micrometer Tracing: only AuditEnricher.traceIds(Tracer) names it, for applications that trace with it and
    // require it themselves; optional, so not transitive (a module that reads this one must compile without it).
    requires static micrometer.tracing;
    // Flight-recorder events of its internals; recorded only while a JFR recording enables them.
    requires jdk.jfr;
    requires static transitive org.jspecify;

    exports dev.sluice.pipeline.audit;
}
