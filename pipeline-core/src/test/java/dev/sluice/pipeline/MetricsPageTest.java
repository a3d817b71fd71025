package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The metrics page (docs/metrics.md) names exactly the meters a pipeline registers. */
class MetricsPageTest {

    private static final Pattern NAME = Pattern.compile("`(\\.?[a-z][a-z0-9_.]*)`");

    @Test
    void theMetricsPageNamesExactlyTheMetersAPipelineRegisters() throws Exception {
        // given: the names in the page's rows for the core's meters
        Set<String> documented = documentedNames("sluice.pipeline.");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();

        // when: a pipeline with a stage, a buffer and a sink runs with a registry
        Pipeline.from(Source.range(0, 100))
                .pipelineName("metrics-page")
                .meterRegistry(registry)
                .map(x -> x + 1)
                .named("increment")
                .buffer(8)
                .to(Sink.count())
                .run();

        // then
        Set<String> registered = registry.getMeters().stream()
                .map(Meter::getId)
                .map(Meter.Id::getName)
                .filter(n -> n.startsWith("sluice.pipeline."))
                .collect(Collectors.toCollection(LinkedHashSet::new));
        assertThat(documented).as("the meters docs/metrics.md names").isNotEmpty();
        assertThat(registered).as("the meters a run registers").containsExactlyInAnyOrderElementsOf(documented);
    }

    /**
     * The meter names in the table rows that start with the given prefix. A name written as {@code .suffix} after a
     * full one stands for the full name with its last part replaced, as the page abbreviates them.
     */
    private static Set<String> documentedNames(String prefix) throws IOException {
        Set<String> names = new LinkedHashSet<>();
        for (String line : Files.readAllLines(page())) {
            if (!line.startsWith("| `" + prefix)) {
                continue;
            }
            String meterColumn = line.split("\\|")[1];
            String full = null;
            Matcher m = NAME.matcher(meterColumn);
            while (m.find()) {
                String name = m.group(1);
                if (name.startsWith(".")) {
                    name = full.substring(0, full.lastIndexOf('.')) + name;
                } else {
                    full = name;
                }
                names.add(name);
            }
        }
        return names;
    }

    private static Path page() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = d.resolve("docs").resolve("metrics.md");
            if (Files.exists(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException(
                "no docs/metrics.md above " + Path.of("").toAbsolutePath());
    }
}
