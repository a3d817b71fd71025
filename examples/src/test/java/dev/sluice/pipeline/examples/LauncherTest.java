package dev.sluice.pipeline.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.pipeline.audit.Postgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./run-demo} and its commands, run as the script runs them (the jar's main class in a JVM of its own): bad
 * input ends with exactly one line on stderr, exit code 2 and nothing written, never a stack trace.
 */
@Timeout(180)
class LauncherTest {

    private static final Duration LIMIT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    private Jvm.Exit launch(String... args) throws Exception {
        return Jvm.run(LIMIT, Launcher.class, dir, args);
    }

    /** Exit code 2, exactly one line on stderr, and nothing on stdout. */
    private static String refusedWithOneLine(Jvm.Exit exit) {
        assertThat(exit.code()).as("exit code; stderr:%n%s", exit.err()).isEqualTo(CommandLine.EXIT_BAD_INPUT);
        assertThat(exit.errLines()).as("stderr").hasSize(1);
        assertThat(exit.out()).as("stdout").isEmpty();
        return exit.errLines().getFirst();
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void anUnknownOptionOfTheDemo() throws Exception {
        assertThat(refusedWithOneLine(launch("--speed", "11")))
                .isEqualTo("run-demo: unknown option '--speed' (see ./run-demo --help)");
    }

    @Test
    void aBadNumberForTheDemo() throws Exception {
        assertThat(refusedWithOneLine(launch("--users", "many")))
                .isEqualTo("run-demo: --users needs a whole number, got 'many' (see ./run-demo --help)");
        assertThat(refusedWithOneLine(launch("--users", "-5")))
                .isEqualTo("run-demo: --users must be at least 1, got -5 (see ./run-demo --help)");
    }

    @Test
    void anUnknownCommand() throws Exception {
        assertThat(refusedWithOneLine(launch("consumr")))
                .isEqualTo(
                        "run-demo: unknown command 'consumr'; the commands are demo, consumer, import, upload and kafka"
                                + " (see ./run-demo --help)");
    }

    @Test
    void aPostgreSqlUrlWhosePortIsClosed() throws Exception {
        int port = closedPort();
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/sluice_demo?user=postgres";
        assertThat(refusedWithOneLine(launch("--users", "1000", "--jdbc-url", url, "--data-dir", dir.toString())))
                .startsWith("run-demo: cannot use the database jdbc:postgresql://127.0.0.1:" + port + "/sluice_demo: ")
                .contains("refused")
                .doesNotContain("user=postgres");
    }

    @Test
    void aPostgreSqlDatabaseThatDoesNotExist() throws Exception {
        String missing = "sluice_test_missing_"
                + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
        String url = Postgres.jdbcUrl().replace("/" + Postgres.DATABASE + "?", "/" + missing + "?");
        assertThat(refusedWithOneLine(launch("--users", "1000", "--jdbc-url", url, "--data-dir", dir.toString())))
                .startsWith("run-demo: cannot use the database ")
                .contains("database \"" + missing + "\" does not exist");
    }

    @Test
    void aSqliteFileInAFolderThatDoesNotExist() throws Exception {
        Path file = dir.resolve("no-such-folder").resolve("demo.db");
        assertThat(refusedWithOneLine(
                        launch("--users", "1000", "--jdbc-url", "jdbc:sqlite:" + file, "--data-dir", dir.toString())))
                .isEqualTo("run-demo: cannot use the database jdbc:sqlite:" + file + ": the folder " + file.getParent()
                        + " does not exist (see ./run-demo --help)");
        assertThat(dir.resolve("no-such-folder")).doesNotExist();
    }

    @Test
    void aDataFolderThatCannotBeCreated() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "not a folder");
        assertThat(refusedWithOneLine(launch(
                        "--users", "1000", "--data-dir", file.resolve("demo").toString())))
                .isEqualTo("run-demo: --data-dir: cannot create the folder " + file.resolve("demo")
                        + ": Not a directory (see ./run-demo --help)");
        assertThat(refusedWithOneLine(launch("consumer", "--data-dir", file.toString())))
                .isEqualTo("run-demo consumer: --data-dir must be a folder, but " + file
                        + " is a file (see ./run-demo consumer --help)");
    }

    @Test
    void anImportOfNeitherAFileNorANumber() throws Exception {
        assertThat(refusedWithOneLine(launch("import", "abc", "--data-dir", dir.toString())))
                .startsWith("run-demo import: no file 'abc' (" + dir.resolve("abc") + "), and it is not a number of"
                        + " lines either")
                .endsWith("(see ./run-demo import --help)");
    }

    @Test
    void badNumbersAndOptionsOfTheImport() throws Exception {
        assertThat(refusedWithOneLine(launch("import", "0")))
                .isEqualTo("run-demo import: LINES must be at least 1, got 0 (see ./run-demo import --help)");
        assertThat(refusedWithOneLine(launch("import", "-5")))
                .isEqualTo("run-demo import: LINES must be at least 1, got -5 (see ./run-demo import --help)");
        assertThat(refusedWithOneLine(launch("import", "--lines", "5")))
                .isEqualTo("run-demo import: unknown option '--lines' (see ./run-demo import --help)");
        assertThat(refusedWithOneLine(launch("import", "5", "6")))
                .isEqualTo("run-demo import: unexpected argument '6': give one FILE or LINES"
                        + " (see ./run-demo import --help)");
    }

    @Test
    void anUnknownOptionOfTheConsumer() throws Exception {
        assertThat(refusedWithOneLine(launch("consumer", "--rate", "5")))
                .isEqualTo("run-demo consumer: unknown option '--rate' (see ./run-demo consumer --help)");
        assertThat(refusedWithOneLine(launch("consumer", "--data-dir")))
                .isEqualTo("run-demo consumer: --data-dir needs a value (see ./run-demo consumer --help)");
    }

    @Test
    void badOptionsOfTheKafkaDemoAndItsHelp() throws Exception {
        assertThat(refusedWithOneLine(launch("kafka", "--instances", "13")))
                .isEqualTo("run-demo kafka: --instances must be at most 12 (the topic's partitions: a copy more would"
                        + " get none), got 13 (see ./run-demo kafka --help)");
        assertThat(refusedWithOneLine(launch("kafka", "-n", "lots")))
                .isEqualTo("run-demo kafka: -n needs a whole number, got 'lots' (see ./run-demo kafka --help)");
        assertThat(refusedWithOneLine(launch("kafka", "--jdbc-url", "jdbc:sqlite:demo.db")))
                .isEqualTo("run-demo kafka: --jdbc-url must be a jdbc:postgresql: URL, got 'jdbc:sqlite:demo.db'"
                        + " (see ./run-demo kafka --help)");
        Jvm.Exit help = launch("kafka", "--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).startsWith("Usage: ./run-demo kafka [options]").contains("--instances N");
    }

    @Test
    void everyCommandHasItsHelp() throws Exception {
        Jvm.Exit demo = launch("--help");
        assertThat(demo.code()).isZero();
        assertThat(demo.err()).isEmpty();
        assertThat(demo.out().replaceAll("\\s+", " "))
                .contains("./run-demo consumer")
                .contains("./run-demo import")
                .contains("drops and recreates the table demo_users")
                .contains("it refuses one it did not create");
        assertThat(launch("demo", "--help").out()).isEqualTo(demo.out());
        Jvm.Exit consumer = launch("consumer", "--help");
        assertThat(consumer.code()).isZero();
        assertThat(consumer.out()).startsWith("Usage: ./run-demo consumer").contains("--data-dir DIR");
        Jvm.Exit fileImport = launch("import", "--help");
        assertThat(fileImport.code()).isZero();
        assertThat(fileImport.out())
                .startsWith("Usage: ./run-demo import [FILE | LINES]")
                .contains("rejected-lines.tsv");
    }

    @Test
    void everyRunDemoCommandOfTheReadmeAndTheDemoPageIsOneTheLauncherTakes() throws Exception {
        // given the ./run-demo commands of the README and docs/demo.md
        List<List<String>> commands = readmeCommands();
        assertThat(commands).hasSizeGreaterThanOrEqualTo(4);
        for (List<String> command : commands) {
            // when each is given with --help at its end, then its arguments parse: the command prints its help
            List<String> args = new ArrayList<>(command);
            args.add("--help");
            assertThat(Launcher.run(args))
                    .as("./run-demo %s", String.join(" ", command))
                    .isZero();
        }
    }

    private static List<List<String>> readmeCommands() throws IOException {
        Path root = Path.of("").toAbsolutePath();
        while (!Files.exists(root.resolve("run-demo"))) {
            root = root.getParent();
        }
        String readme = Files.readString(root.resolve("README.md"))
                + Files.readString(root.resolve("docs").resolve("demo.md"));
        List<List<String>> commands = new ArrayList<>();
        boolean inPlainBlock = false;
        boolean inOtherBlock = false;
        for (String line : readme.split("\\n")) {
            if (line.startsWith("```")) {
                if (inPlainBlock || inOtherBlock) {
                    inPlainBlock = inOtherBlock = false;
                } else if (line.equals("```")) {
                    inPlainBlock = true;
                } else {
                    inOtherBlock = true;
                }
            } else if (inPlainBlock && line.startsWith("./run-demo")) {
                List<String> words = Arrays.stream(
                                line.replaceFirst("\\s+#.*$", "").strip().split("\\s+"))
                        .map(w -> w.replaceAll("^'(.*)'$", "$1")) // a word in quotes, as the shell reads it
                        .toList();
                commands.add(words.subList(1, words.size()));
            }
        }
        return commands;
    }
}
