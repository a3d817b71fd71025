/**
 * Sluice's core: channels, scopes and pipelines on virtual threads.
 *
 * <p>Exports its API package only. {@code dev.sluice.pipeline.internal.check}, the precondition helper every Sluice
 * module checks its arguments with, is exported to Sluice's own modules and to no one else; the rest of
 * {@code internal} is not exported (docs/adr/0011-qualified-export-of-preconditions.md).
 *
 * @since 0.1
 */
module dev.sluice.pipeline {
    // Micrometer's MeterRegistry appears in the API (Pipeline.meterRegistry, StageContext); slf4j's types do not.
    requires transitive micrometer.core;
    // Micrometer's context-propagation: ThreadLocalAccessor appears in the API (Pipeline.propagate).
    requires transitive context.propagation;
    // Micrometer's ObservationRegistry appears in the API (Pipeline.observationRegistry).
    requires transitive micrometer.observation;
    requires org.jctools.core;
    // Flight-recorder events of its internals; recorded only while a JFR recording enables them.
    requires jdk.jfr;
    requires org.slf4j;
    // Nullness annotations (type-use, in API signatures): read by compilers and analysers of this module and of its
    // readers, never needed at run time.
    requires static transitive org.jspecify;

    exports dev.sluice.pipeline;
    exports dev.sluice.pipeline.internal.check to
            dev.sluice.pipeline.grpc,
            dev.sluice.pipeline.audit,
            dev.sluice.pipeline.kafka;
}
