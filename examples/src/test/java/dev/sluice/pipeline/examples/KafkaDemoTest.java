package dev.sluice.pipeline.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.pipeline.audit.Postgres;
import dev.sluice.pipeline.examples.kafka.KafkaDemo;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./run-demo kafka} end to end, as the script runs it (in a JVM of its own): it starts the broker of
 * {@code scripts/kafka} (pipeline-kafka's test broker, built by the same Maven run), three copies of the job in JVMs of
 * their own, kills one, checks the table, and stops the broker it started.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class KafkaDemoTest {

    /** A progress line's partitions of copies #1 and #2. */
    private static final Pattern SURVIVORS = Pattern.compile("#1 (\\d+)p [\\d,]+\\s+#2 (\\d+)p");

    @Test
    void aBrokerThatDoesNotAnswerEndsTheDemoInOneLine(@TempDir Path dir) throws Exception {
        // given a port nothing listens on
        int port = freePort();
        String database = "sluice_test_kafka_demo_unreachable";
        try {
            // when
            Jvm.Exit exit = Jvm.run(
                    Duration.ofSeconds(60),
                    Map.of(),
                    KafkaDemo.class,
                    dir,
                    "--bootstrap-servers",
                    "127.0.0.1:" + port,
                    "--jdbc-url",
                    Postgres.jdbcUrl(database),
                    "--data-dir",
                    dir.toString());
            // then one line, exit code 2, and none of the Kafka client's warnings of a minute of retries
            assertThat(exit.code()).as(exit.err()).isEqualTo(2);
            assertThat(exit.errLines())
                    .singleElement()
                    .asString()
                    .startsWith("run-demo kafka: --bootstrap-servers: no broker answers at 127.0.0.1:" + port + " (");
        } finally {
            Postgres.dropDatabase(database);
        }
    }

    @Test
    void threeCopiesShareTheTopicOneIsKilledAndEveryEventIsInTheTableOnce(@TempDir Path dir) throws Exception {
        // given a broker directory and port of this test's own, and a database of its own
        Path root = root();
        Path brokerDir = dir.resolve("kafka");
        Map<String, String> env = Map.of(
                "SLUICE_HOME", root.toString(),
                "SLUICE_KAFKA_DIR", brokerDir.toString(),
                "SLUICE_KAFKA_PORT", Integer.toString(freePort()));
        String database = "sluice_test_kafka_demo";
        try {
            // when
            Jvm.Exit exit = Jvm.run(
                    Duration.ofMinutes(3),
                    env,
                    KafkaDemo.class,
                    dir,
                    "--instances",
                    "3",
                    "-n",
                    "15000",
                    "--jdbc-url",
                    Postgres.jdbcUrl(database),
                    "--data-dir",
                    dir.resolve("logs").toString());

            // then
            assertThat(exit.code())
                    .as("exit code; stdout:%n%s%nstderr:%n%s", exit.out(), exit.err())
                    .isZero();
            assertThat(exit.out())
                    .contains("Kafka: starting the broker of scripts/kafka")
                    .containsPattern("partitions held: #1 \\d+, #2 \\d+, #3 \\d+")
                    .contains("produced 15,000 user events")
                    .containsPattern("killed copy #3 \\(SIGKILL, pid \\d+\\) after [\\d,]+ events")
                    .containsPattern("copy #1 stopped: outcome STOPPED")
                    .containsPattern("copy #2 stopped: outcome STOPPED")
                    .contains("check: 15,000 events produced, 15,000 rows in kafka_demo_events, every event exactly"
                            + " once")
                    .containsPattern("duplicates processed: [\\d,]+ \\(.*; at most [\\d,]+\\) ok")
                    .containsPattern("run rows \\{RUNNING=1, STOPPED=2\\}; rebalance rows \\{ASSIGNED=\\d+,"
                            + " REVOKED=\\d+\\} ok")
                    .containsPattern("PASSED in [\\d.]+ s")
                    .contains("Kafka: stopping the broker the demo started");
            String afterTheKill = exit.out().substring(exit.out().indexOf("killed copy #3"));
            assertThat(afterTheKill
                            .lines()
                            .map(SURVIVORS::matcher)
                            .filter(Matcher::find)
                            .map(m -> Integer.parseInt(m.group(1)) + Integer.parseInt(m.group(2))))
                    .as("the partitions the survivors hold after the kill")
                    .contains(12);
            assertThat(kafkaScript(root, env, "status"))
                    .as("scripts/kafka status after the demo")
                    .isEqualTo(3);
        } finally {
            kafkaScript(root, env, "stop"); // whatever happened, no broker is left behind
            Postgres.dropDatabase(database);
        }
    }

    private static int kafkaScript(Path root, Map<String, String> env, String command)
            throws IOException, InterruptedException {
        ProcessBuilder script = new ProcessBuilder(
                        root.resolve("scripts").resolve("kafka").toString(), command)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        script.environment().putAll(env);
        Process p = script.start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("scripts/kafka " + command + " ran longer than 90 s");
        }
        return p.exitValue();
    }

    private static Path root() {
        Path root = Path.of("").toAbsolutePath();
        while (!Files.exists(root.resolve("run-demo"))) {
            root = root.getParent();
        }
        return root;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 0, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }
}
