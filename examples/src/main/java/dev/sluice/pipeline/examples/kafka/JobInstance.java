package dev.sluice.pipeline.examples.kafka;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One copy of {@link UserEventsJob} in a JVM of its own, started by the demo on the demo's own class path: what it
 * reports on its stdout (partitions held, events processed) is read as it comes; its log goes to a file. Thread-safe:
 * one thread reads the copy's output, any other reads the state.
 */
final class JobInstance {

    private final int number;
    private final String correlationId;
    private final Process process;
    private final Thread reader;
    private volatile int partitions;
    private volatile long processed;
    private volatile String lastWord = "";
    private final ReentrantLock historyLock = new ReentrantLock();
    /** Processed counts with the time they came, for what the copy did just before it was killed. Guarded by historyLock. */
    private final List<long[]> history = new ArrayList<>();

    private volatile boolean killed;

    private JobInstance(int number, String correlationId, Process process) {
        this.number = number;
        this.correlationId = correlationId;
        this.process = process;
        this.reader = Thread.ofVirtual().name("instance-" + number).start(this::read);
    }

    /** Starts copy {@code number}; its log goes to {@code logFile}. */
    static JobInstance start(
            int number,
            String correlationId,
            String bootstrap,
            String topic,
            String group,
            String jdbcUrl,
            Path logFile)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--enable-native-access=ALL-UNNAMED");
        if (Runtime.version().feature() >= 24) {
            command.add("--sun-misc-unsafe-memory-access=allow"); // as ./run-demo
        }
        command.addAll(List.of(
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-Dlogback.configurationFile=logback.xml",
                "-cp",
                System.getProperty("java.class.path"),
                UserEventsJob.class.getName(),
                "--bootstrap-servers",
                bootstrap,
                "--topic",
                topic,
                "--group",
                group,
                "--jdbc-url",
                jdbcUrl,
                "--correlation-id",
                correlationId,
                "--exit-with-parent"));
        Process process = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectError(logFile.toFile())
                .start();
        return new JobInstance(number, correlationId, process);
    }

    private void read() {
        try (BufferedReader lines =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                String[] words = line.split(" ", 2);
                switch (words[0]) {
                    case "partitions" -> partitions = Integer.parseInt(words[1]);
                    case "processed" -> {
                        processed = Long.parseLong(words[1]);
                        historyLock.lock();
                        try {
                            history.add(new long[] {System.nanoTime(), processed});
                        } finally {
                            historyLock.unlock();
                        }
                    }
                    default -> lastWord = line;
                }
            }
        } catch (IOException | NumberFormatException e) {
            lastWord = "unreadable output: " + e;
        }
    }

    int number() {
        return number;
    }

    String correlationId() {
        return correlationId;
    }

    long pid() {
        return process.pid();
    }

    /** The partitions it holds, as of its last rebalance. */
    int partitions() {
        return killed || !process.isAlive() ? 0 : partitions;
    }

    /** The events it has written to the table. */
    long processed() {
        return processed;
    }

    boolean killed() {
        return killed;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Its last line other than progress: how it stopped, or failed. */
    String lastWord() {
        return lastWord;
    }

    /** Kills it with SIGKILL, as a crash or an out-of-memory killer would, and waits until it is gone. */
    void kill() throws InterruptedException {
        killed = true;
        process.toHandle().destroyForcibly(); // not Process.destroyForcibly, which closes its output before it is read
        process.waitFor();
    }

    /** The events it wrote in the second before its last progress report. */
    long processedInLastSecond() {
        historyLock.lock();
        try {
            if (history.isEmpty()) {
                return 0;
            }
            long[] last = history.getLast();
            for (int i = history.size() - 1; i >= 0; i--) {
                if (last[0] - history.get(i)[0] >= TimeUnit.SECONDS.toNanos(1)) {
                    return last[1] - history.get(i)[1];
                }
            }
            return last[1];
        } finally {
            historyLock.unlock();
        }
    }

    /**
     * Stops it with SIGTERM (its shutdown hook drains and commits; a second SIGTERM changes nothing), waiting up to
     * {@code seconds} before killing it; returns its exit code.
     */
    int stop(long seconds) throws InterruptedException {
        process.toHandle().destroy(); // not Process.destroy, which closes its output before its last line is read
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.toHandle().destroyForcibly();
            process.waitFor();
        }
        reader.join(TimeUnit.SECONDS.toMillis(5));
        return process.exitValue();
    }

    /** Stops it if it runs (SIGTERM): when the demo itself ends or is stopped. */
    void destroy() {
        process.toHandle().destroy();
    }
}
