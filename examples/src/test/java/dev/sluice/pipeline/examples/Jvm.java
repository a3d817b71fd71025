package dev.sluice.pipeline.examples;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts another JVM on this test run's class path, with the flags {@code ./run-demo} gives it: for what needs a
 * process of its own (exit codes, what reaches stderr, signals).
 */
public final class Jvm {

    private Jvm() {}

    /** How a finished process ended: its exit code and all it wrote. */
    public record Exit(int code, String out, String err) {

        /** The lines written to stderr. */
        public List<String> errLines() {
            return err.lines().toList();
        }
    }

    /**
     * Starts {@code main} in a JVM of its own. Its stdout is the process's input stream, for the test to read as it
     * goes; its stderr goes to a file ({@link #stderr}), so that a child that logs much while nobody reads can never
     * block on a full pipe.
     */
    public static Process start(Class<?> main, Path workingDir, String... args) throws IOException {
        Path err = Files.createTempFile("sluice-jvm-", ".stderr");
        err.toFile().deleteOnExit();
        Process process = new ProcessBuilder(command(main, args))
                .directory(workingDir.toFile())
                .redirectError(err.toFile())
                .start();
        STDERR.put(process, err);
        return process;
    }

    /** What a process started by {@link #start} has written to stderr so far. */
    public static String stderr(Process process) throws IOException {
        Path err = STDERR.get(process);
        return err == null ? "" : Files.readString(err);
    }

    private static final java.util.Map<Process, Path> STDERR = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Runs {@code main} to its end in {@code workingDir} and returns how it ended; fails if it runs longer than
     * {@code timeout} (and then kills it).
     */
    public static Exit run(Duration timeout, Class<?> main, Path workingDir, String... args)
            throws IOException, InterruptedException {
        return run(timeout, java.util.Map.of(), main, workingDir, args);
    }

    /** As {@link #run(Duration, Class, Path, String...)}, with {@code environment} added to the child's. */
    public static Exit run(
            Duration timeout, java.util.Map<String, String> environment, Class<?> main, Path workingDir, String... args)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("jvm-out", ".txt");
        Path err = Files.createTempFile("jvm-err", ".txt");
        try {
            ProcessBuilder builder = new ProcessBuilder(command(main, args));
            builder.environment().putAll(environment);
            Process p = builder.directory(workingDir.toFile())
                    .redirectInput(
                            ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(main.getSimpleName() + " " + String.join(" ", args) + " ran longer than "
                        + timeout + "; stdout:\n" + Files.readString(out) + "\nstderr:\n" + Files.readString(err));
            }
            return new Exit(
                    p.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static List<String> command(Class<?> main, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--enable-native-access=ALL-UNNAMED");
        if (Runtime.version().feature() >= 24) {
            // as ./run-demo: protobuf and Netty still call sun.misc.Unsafe, which JDK 24+ warns about
            command.add("--sun-misc-unsafe-memory-access=allow");
        }
        // the jar's logging (log lines on stderr), not the logback-test.xml that a test jar on the class path brings
        command.add("-Dlogback.configurationFile=logback.xml");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        command.addAll(List.of(args));
        return command;
    }

    /** Sends SIGINT, as Ctrl-C in a terminal does. */
    public static void interrupt(Process process) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-INT", Long.toString(process.pid()))
                .inheritIO()
                .start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -INT " + process.pid() + " failed");
        }
    }
}
