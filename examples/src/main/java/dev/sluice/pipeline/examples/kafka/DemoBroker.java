package dev.sluice.pipeline.examples.kafka;

import dev.sluice.pipeline.examples.CommandLine;
import dev.sluice.pipeline.examples.CommandLine.BadInput;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The Kafka broker of the demo: one given with {@code --bootstrap-servers}, which the demo leaves alone; or the one
 * {@code scripts/kafka} runs (the broker pipeline-kafka's tests start), used if it runs, else started and, at the end,
 * stopped. The script is found through {@value #HOME_VARIABLE}, which {@code ./run-demo} sets to the checkout's root;
 * {@code SLUICE_KAFKA_DIR} and {@code SLUICE_KAFKA_PORT} pass on to it.
 */
final class DemoBroker implements AutoCloseable {

    static final String HOME_VARIABLE = "SLUICE_HOME";

    private final String bootstrapServers;
    private final Path script;
    private final PrintStream out;
    private final AtomicBoolean closed = new AtomicBoolean();

    private DemoBroker(String bootstrapServers, Path script, PrintStream out) {
        this.bootstrapServers = bootstrapServers;
        this.script = script;
        this.out = out;
    }

    /**
     * The broker to use: {@code bootstrapServers} if given, else that of {@code scripts/kafka}, started if need be.
     *
     * @throws BadInput if the script cannot be found, or fails to start the broker
     */
    static DemoBroker open(String bootstrapServers, PrintStream out) throws BadInput, InterruptedException {
        if (bootstrapServers != null) {
            requireAnswering(bootstrapServers);
            out.println("Kafka: using " + bootstrapServers);
            return new DemoBroker(bootstrapServers, null, out);
        }
        String home = System.getenv(HOME_VARIABLE);
        Path script = home == null ? null : Path.of(home, "scripts", "kafka");
        if (script == null || !Files.isExecutable(script)) {
            throw new BadInput("cannot find scripts/kafka to start a broker (" + HOME_VARIABLE + " is "
                    + (home == null ? "not set" : "'" + home + "'") + "): run the demo through ./run-demo, or give"
                    + " --bootstrap-servers of a running Kafka");
        }
        Result status = run(script, "status");
        if (status.code() == 0) {
            out.println("Kafka: using the broker of scripts/kafka, already running at " + status.out());
            return new DemoBroker(status.out(), null, out);
        }
        out.println("Kafka: starting the broker of scripts/kafka (a KRaft node from Maven Central's artifacts)...");
        Result start = run(script, "start");
        if (start.code() != 0) {
            throw new BadInput("scripts/kafka start failed (exit " + start.code() + "); its message is above");
        }
        return new DemoBroker(start.out(), script, out);
    }

    /**
     * Ends with bad input unless one of the servers, {@code HOST:PORT} separated by commas (checked by the options),
     * accepts a connection: Kafka's client would otherwise retry for a minute, logging a warning a second.
     */
    private static void requireAnswering(String bootstrapServers) throws BadInput {
        String why = null;
        for (String server : bootstrapServers.split(",")) {
            String hostPort = server.strip();
            int colon = hostPort.lastIndexOf(':');
            try (Socket socket = new Socket()) {
                socket.connect(
                        new InetSocketAddress(
                                hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1))),
                        CONNECT_TIMEOUT_MS);
                return;
            } catch (IOException | IllegalArgumentException e) {
                why = hostPort + ": " + CommandLine.oneLine(String.valueOf(e.getMessage()));
            }
        }
        throw new BadInput("--bootstrap-servers: no broker answers at " + bootstrapServers + " (" + why + ")");
    }

    private static final int CONNECT_TIMEOUT_MS = 5_000;

    String bootstrapServers() {
        return bootstrapServers;
    }

    /** Stops the broker if the demo started it; once, whoever calls first. */
    @Override
    public void close() throws InterruptedException {
        if (script != null && closed.compareAndSet(false, true)) {
            out.println("Kafka: stopping the broker the demo started (scripts/kafka start keeps one running)");
            run(script, "stop");
        }
    }

    /** As {@link #close()}, for a shutdown hook: an interrupt ends the wait for the script, nothing else. */
    void closeQuietly() {
        try {
            close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private record Result(int code, String out) {}

    /** Runs the script; its stderr (one line of news, or a build's output) goes to the demo's stderr. */
    private static Result run(Path script, String command) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(script.toString(), command)
                    .redirectInput(
                            ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return new Result(p.waitFor(), out);
        } catch (IOException e) {
            return new Result(-1, "");
        }
    }
}
