package dev.sluice.pipeline.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the demo and the examples write when given no folder: {@code sluice-data/<command>/} under the directory
 * they are run from, which the project's {@code .gitignore} ignores, so that running them in a checkout leaves
 * {@code git status} clean.
 */
@Timeout(180)
class DataFolderTest {

    @Test
    void theDemoWritesUnderSluiceDataDemo(@TempDir Path dir) throws Exception {
        Jvm.Exit exit = Jvm.run(Duration.ofSeconds(120), Launcher.class, dir, "--users", "2000");
        assertThat(exit.code()).as(exit.err()).isZero();
        assertThat(exit.out()).startsWith("Database " + dir.resolve("sluice-data/demo/demo.db") + ": ");
        assertThat(topLevel(dir)).containsExactly("sluice-data");
        assertThat(dir.resolve("sluice-data/demo/demo.db")).exists();
    }

    @Test
    void theImportWritesUnderSluiceDataImport(@TempDir Path dir) throws Exception {
        Jvm.Exit exit = Jvm.run(Duration.ofSeconds(120), Launcher.class, dir, "import", "2000");
        assertThat(exit.code()).as(exit.err()).isZero();
        assertThat(topLevel(dir)).containsExactly("sluice-data");
        Path folder = dir.resolve("sluice-data/import");
        assertThat(folder.resolve("orders-2000.csv")).exists();
        assertThat(folder.resolve("import.db")).exists();
        assertThat(exit.out()).contains("2 malformed lines set aside in " + folder.resolve("rejected-lines.tsv"));
    }

    @Test
    void theConsumerWritesUnderSluiceDataConsumer(@TempDir Path dir) throws Exception {
        Process job = Jvm.start(Launcher.class, dir, "consumer");
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(job.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the process is gone
            }
        });
        try {
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> lines.stream()
                            .anyMatch(l ->
                                    l.startsWith("consuming into " + dir.resolve("sluice-data/consumer/consumer.db"))));
            Jvm.interrupt(job);
            assertThat(job.waitFor(60, TimeUnit.SECONDS)).isTrue();
        } finally {
            job.destroyForcibly().waitFor();
        }
        assertThat(topLevel(dir)).containsExactly("sluice-data");
    }

    @Test
    void gitIgnoresTheDefaultFolderWhereverItIsRunFrom() throws IOException {
        Path root = Path.of("").toAbsolutePath();
        while (!Files.exists(root.resolve("run-demo"))) {
            root = root.getParent();
        }
        // no leading slash: ignored at the root and in any folder of the checkout the examples are run from
        assertThat(Files.readAllLines(root.resolve(".gitignore"))).contains("sluice-data/");
    }

    private static List<String> topLevel(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
