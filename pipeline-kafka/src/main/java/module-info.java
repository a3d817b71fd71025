/**
 * Apache Kafka for Sluice pipelines: consumer jobs that read topics through Kafka's consumer groups.
 *
 * <p>Incubating: may change in a minor release (docs/compatibility.md). Exports its API package only. kafka-clients ships neither a module-info nor an Automatic-Module-Name, so its
 * module name, {@code kafka.clients}, comes from its jar's file name.
 *
 * @since 0.1
 */
module dev.sluice.pipeline.kafka {
    requires transitive dev.sluice.pipeline;
    requires transitive kafka.clients;
    requires org.slf4j;
    requires static transitive org.jspecify;

    exports dev.sluice.pipeline.kafka;
}
