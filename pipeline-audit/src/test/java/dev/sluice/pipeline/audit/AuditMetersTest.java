package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Meter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The names users see in their dashboards: the writer's meters under {@code sluice.audit.}, as a Prometheus registry
 * exports them (no base unit doubled into the name), and the metrics table of {@code docs/audit.md} in step with them.
 */
@Timeout(30)
class AuditMetersTest {

    @Test
    void prometheusExportsTheWritersMetersUnderSluiceAuditWithoutADoubledSuffix() throws Exception {
        // given a writer bound to a Prometheus registry
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (AuditWriter writer = AuditWriter.builder(new InMemoryAuditSink())
                .logEvents(false)
                .meterRegistry(registry)
                .build()) {
            // when an event is written
            writer.submit(Events.finished("meters", 1));
            await().atMost(Duration.ofSeconds(10)).until(() -> writer.report().written() == 1);

            // then the scrape names each meter once, with its outcome tag, and nothing else of the writer's
            String scrape = registry.scrape();
            assertThat(scrape)
                    .contains("sluice_audit_events_total{outcome=\"written\"} 1.0")
                    .contains("sluice_audit_events_total{outcome=\"spilled\"} 0.0")
                    .contains("sluice_audit_events_total{outcome=\"dead-lettered\"} 0.0")
                    .contains("sluice_audit_events_total{outcome=\"dropped\"} 0.0")
                    .contains("sluice_audit_queue_size 0.0")
                    .doesNotContain("_events_events")
                    .doesNotContain("pipeline_audit");
        }
    }

    @Test
    void theDocsMetricsTableNamesEveryMeterAndOutcomeTheWriterRegisters() throws Exception {
        // given the rows of docs/audit.md's metrics table
        Set<String> documented = new TreeSet<>();
        for (String row : metricsRows()) {
            Matcher name = Pattern.compile("^\\| `([a-z.]+)`").matcher(row);
            assertThat(name.find()).as(row).isTrue();
            Matcher outcome = Pattern.compile("`outcome=([a-z-]+)`").matcher(row);
            boolean tagged = false;
            while (outcome.find()) {
                documented.add(name.group(1) + "{outcome=" + outcome.group(1) + "}");
                tagged = true;
            }
            if (!tagged) {
                documented.add(name.group(1));
            }
        }

        // when a writer registers its meters
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Set<String> registered = new TreeSet<>();
        try (AuditWriter writer = AuditWriter.builder(new InMemoryAuditSink())
                .logEvents(false)
                .meterRegistry(registry)
                .build()) {
            for (Meter m : registry.getMeters()) {
                String tag = m.getId().getTag("outcome");
                registered.add(m.getId().getName() + (tag == null ? "" : "{outcome=" + tag + "}"));
            }
        }

        // then the table names each of them, and no other
        assertThat(registered).isNotEmpty().isEqualTo(documented);
    }

    private static List<String> metricsRows() throws IOException {
        Path doc = Path.of("..", "docs", "audit.md");
        List<String> lines = Files.readAllLines(doc);
        int heading = lines.indexOf("## Metrics");
        assertThat(heading).as("a '## Metrics' section in " + doc).isNotNegative();
        return lines.subList(heading, lines.size()).stream()
                .takeWhile(line -> !line.startsWith("## ") || line.equals("## Metrics"))
                .filter(line -> line.startsWith("| `sluice."))
                .toList();
    }
}
