package dev.sluice.pipeline.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

/**
 * The command behind {@code scripts/kafka}: starts, stops or reports the examples' broker, a {@link KafkaBroker} that
 * outlives this JVM, with its data, log and process ID in a directory of its own (kept across stop and start).
 *
 * <p>Usage: {@code KafkaCommand start|stop|status <directory> <port>}. {@code start} and a running {@code status}
 * print the bootstrap address alone on standard output; everything else goes to standard error, one line. Exit codes: 0
 * done (for {@code status}: running and answering), 1 failed, 2 bad usage, 3 not running ({@code status}).
 */
final class KafkaCommand {

    private static final String USAGE = "usage: scripts/kafka start|stop|status";
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

    private KafkaCommand() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    private static int run(String[] args) {
        if (args.length != 3) {
            System.err.println(USAGE);
            return 2;
        }
        Path directory = Path.of(args[1]).toAbsolutePath();
        int port;
        try {
            port = Integer.parseInt(args[2]);
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65_535) {
            System.err.println("SLUICE_KAFKA_PORT must be a port number from 1 to 65535, got '" + args[2] + "'");
            return 2;
        }
        try {
            return switch (args[0]) {
                case "start" -> start(directory, port);
                case "stop" -> stop(directory);
                case "status" -> status(directory);
                default -> {
                    System.err.println(USAGE + " (got '" + args[0] + "')");
                    yield 2;
                }
            };
        } catch (IllegalStateException | UncheckedIOException e) {
            System.err.println(
                    "scripts/kafka " + args[0] + " failed (data and log in " + directory + "): " + e.getMessage());
            return 1;
        }
    }

    private static int start(Path directory, int port) {
        Optional<ProcessHandle> running = running(directory);
        if (running.isPresent()) {
            String bootstrap = read(directory.resolve("bootstrap"));
            System.out.println(bootstrap);
            System.err.println("Kafka is already running at " + bootstrap + " (pid "
                    + running.get().pid() + ")");
            return 0;
        }
        if (!free(port)) {
            System.err.println("port " + port + " of 127.0.0.1 is in use by another process: stop it, or choose another"
                    + " port with SLUICE_KAFKA_PORT=<port>");
            return 1;
        }
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + directory, e);
        }
        KafkaBroker broker = KafkaBroker.startDetached(directory, port);
        broker.admin().close();
        write(directory.resolve("pid"), Long.toString(broker.pid()));
        write(directory.resolve("bootstrap"), broker.bootstrapServers());
        System.out.println(broker.bootstrapServers());
        System.err.printf(
                "Kafka started at %s in %.1f s (pid %d); data and log in %s%n",
                broker.bootstrapServers(), broker.startupTime().toMillis() / 1000.0, broker.pid(), directory);
        return 0;
    }

    private static int stop(Path directory) {
        Optional<ProcessHandle> running = running(directory);
        if (running.isEmpty()) {
            System.err.println("Kafka is not running (" + directory + ")");
            return 0;
        }
        ProcessHandle broker = running.get();
        broker.destroy();
        try {
            broker.onExit().get(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            broker.destroyForcibly();
            broker.onExit().join();
        } catch (InterruptedException | ExecutionException e) {
            broker.destroyForcibly();
        }
        System.err.println("Kafka stopped (pid " + broker.pid() + ")");
        return 0;
    }

    private static int status(Path directory) {
        Optional<ProcessHandle> running = running(directory);
        if (running.isEmpty()) {
            System.err.println("Kafka is not running (" + directory + ")");
            return 3;
        }
        String bootstrap = read(directory.resolve("bootstrap"));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs(5_000))
                    .nodes()
                    .get();
        } catch (ExecutionException e) {
            System.err.println("Kafka runs (pid " + running.get().pid() + ") but does not answer at " + bootstrap + ": "
                    + e.getCause().getMessage() + "; its log: " + directory.resolve("server.log"));
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
        System.out.println(bootstrap);
        System.err.println(
                "Kafka is running at " + bootstrap + " (pid " + running.get().pid() + ")");
        return 0;
    }

    /**
     * The broker of {@code directory} if its process runs. A process ID reused by another program is not it: the
     * broker's command line names its log file (before the class path, as the system reports only a command line's
     * first page).
     */
    private static Optional<ProcessHandle> running(Path directory) {
        Path pidFile = directory.resolve("pid");
        if (!Files.exists(pidFile)) {
            return Optional.empty();
        }
        long pid;
        try {
            pid = Long.parseLong(read(pidFile));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        String marker = KafkaBroker.logFileOption(directory.resolve("server.log"));
        return ProcessHandle.of(pid)
                .filter(ProcessHandle::isAlive)
                .filter(p -> p.info()
                        .commandLine()
                        .map(line -> line.contains(marker))
                        .orElse(false));
    }

    private static boolean free(int port) {
        try (ServerSocket socket = new ServerSocket(port, 0, InetAddress.getByName("127.0.0.1"))) {
            return true;
        } catch (IOException inUse) {
            return false;
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static void write(Path file, String content) {
        try {
            Files.writeString(file, content + System.lineSeparator(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
