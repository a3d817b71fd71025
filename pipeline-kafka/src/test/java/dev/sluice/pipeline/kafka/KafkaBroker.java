package dev.sluice.pipeline.kafka;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;

/**
 * An Apache Kafka broker for tests: a single node in KRaft mode (broker and controller in one JVM) listening on
 * loopback, run from the broker's own artifacts (the {@code kafka_2.13} test dependency) in a JVM of its own.
 *
 * <p>{@link #shared()} is the broker of this test JVM, started on first use and killed when the JVM exits;
 * {@link #start()} starts one that the caller stops. Such a broker keeps its data in a temporary directory, which
 * {@link #stop()} deletes. Starting blocks until the broker answers a {@code describeCluster} with itself as an
 * unfenced node, or fails within {@link #STARTUP_TIMEOUT} with the end of the broker's output and log in the message.
 * The broker is never left behind: killed by a shutdown hook when this JVM exits, and halting by itself when this JVM
 * is gone.
 *
 * <p>Topics are not created automatically ({@code auto.create.topics.enable=false}): {@link #createTopic}. Kafka 4's
 * consumer group protocol ({@code group.protocol=consumer}) and the classic one are both enabled (the broker's
 * defaults); a member of either is declared dead 10 s after its last heartbeat. Thread-safe.
 */
public final class KafkaBroker implements AutoCloseable {

    /** How long a start may take before it fails: generous, for a loaded two-core machine. */
    public static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(120);

    private static final Duration STOP_GRACE = Duration.ofSeconds(30);
    private static final String LOOPBACK = "127.0.0.1";
    private static final int BIND_ATTEMPTS = 3;
    private static final Lock SHARED_LOCK = new ReentrantLock();
    private static KafkaBroker shared;
    private static RuntimeException sharedFailure;

    private final ChildJvm jvm;
    private final Path directory;
    private final boolean temporary;
    private final String bootstrapServers;
    private final Duration startupTime;
    private final Admin admin;
    private final Thread cleanupAtExit;
    private final AtomicBoolean stopped = new AtomicBoolean();

    private KafkaBroker(
            ChildJvm jvm,
            Path directory,
            boolean temporary,
            String bootstrapServers,
            Duration startupTime,
            Admin admin,
            Thread cleanupAtExit) {
        this.jvm = jvm;
        this.directory = directory;
        this.temporary = temporary;
        this.bootstrapServers = bootstrapServers;
        this.startupTime = startupTime;
        this.admin = admin;
        this.cleanupAtExit = cleanupAtExit;
    }

    /**
     * The broker of this test JVM: started by the first call (which blocks while it starts), the same for every
     * later call, killed when the JVM exits. Callers must not stop it.
     */
    public static KafkaBroker shared() {
        SHARED_LOCK.lock();
        try {
            if (sharedFailure != null) {
                throw new IllegalStateException("the shared Kafka broker failed to start", sharedFailure);
            }
            if (shared == null) {
                try {
                    shared = start();
                } catch (RuntimeException e) {
                    sharedFailure = e;
                    throw e;
                }
            }
            return shared;
        } finally {
            SHARED_LOCK.unlock();
        }
    }

    /** Starts a broker of the caller's, on free ports, with its data in a temporary directory; the caller stops it. */
    public static KafkaBroker start() {
        return start(Map.of());
    }

    /**
     * As {@link #start()}, with broker settings that replace or add to this harness's (for example
     * {@code group.consumer.session.timeout.ms}).
     */
    public static KafkaBroker start(Map<String, String> brokerSettings) {
        IllegalStateException bindFailure = null;
        for (int attempt = 1; attempt <= BIND_ATTEMPTS; attempt++) {
            Path directory = createTemporaryDirectory();
            try {
                return launch(directory, true, freePort(), brokerSettings);
            } catch (IllegalStateException e) {
                deleteRecursively(directory);
                // A free port found here may be taken by another process before the broker binds it; try new ones.
                if (!e.getMessage().contains("Address already in use")) {
                    throw e;
                }
                bindFailure = e;
            } catch (RuntimeException e) {
                deleteRecursively(directory);
                throw e;
            }
        }
        throw bindFailure;
    }

    /**
     * Starts a broker that outlives this JVM, with its data, log and settings in {@code directory} (kept across
     * starts), listening on {@code port} of loopback: the examples' broker, which {@code scripts/kafka} runs.
     */
    static KafkaBroker startDetached(Path directory, int port) {
        return launch(directory, false, port, Map.of());
    }

    /** Where clients connect: {@code 127.0.0.1:<port>}. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** From launching the broker's JVM until the broker answered. */
    public Duration startupTime() {
        return startupTime;
    }

    /** The process ID of the broker's JVM. */
    public long pid() {
        return jvm.pid();
    }

    /** The broker's log file. */
    public Path logFile() {
        return directory.resolve("server.log");
    }

    /** An admin client of this broker, owned by it (closed by {@link #stop()}); thread-safe. */
    public Admin admin() {
        return admin;
    }

    /**
     * Creates a topic of {@code partitions} partitions (replication factor 1) and blocks until the leader of every
     * partition serves it, so that producers and consumers can use it at once.
     */
    public void createTopic(String name, int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be at least 1, got " + partitions + " for " + name);
        }
        try {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1)))
                    .all()
                    .get(STARTUP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("creating topic " + name + " on " + bootstrapServers + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topic " + name, e);
        }
        // A partition's leader is in the broker's metadata before its replica manager leads the partition: a produce
        // request in between fails with NOT_LEADER_OR_FOLLOWER, and an idempotent producer's next batches then fail
        // with OUT_OF_ORDER_SEQUENCE_NUMBER until their delivery timeout. Only the leading replica answers ListOffsets.
        Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            ends.put(new TopicPartition(name, p), OffsetSpec.latest());
        }
        await("the leader of every partition of " + name + " serves it")
                .atMost(STARTUP_TIMEOUT)
                .pollInterval(Duration.ofMillis(50))
                .ignoreExceptions()
                .until(() -> admin.listOffsets(ends).all().get().size() == partitions);
    }

    /**
     * Stops the broker as {@code kafka-server-stop.sh} does (SIGTERM, so it shuts down cleanly), kills it if it is
     * still running after 30 s, and deletes its data if they were temporary. Returns once the broker's JVM is gone;
     * its port refuses connections from then on. Idempotent.
     */
    public void stop() {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        admin.close(Duration.ofSeconds(5));
        try {
            jvm.stop(STOP_GRACE);
        } catch (InterruptedException e) {
            jvm.kill();
            Thread.currentThread().interrupt();
        }
        if (temporary) {
            deleteRecursively(directory);
        }
        if (cleanupAtExit != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(cleanupAtExit);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running or about to: it finds the broker gone.
            }
        }
    }

    /** {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

    private static KafkaBroker launch(Path directory, boolean temporary, int port, Map<String, String> settings) {
        int controllerPort = freePort();
        Path properties = directory.resolve("server.properties");
        writeProperties(properties, serverProperties(directory.resolve("data"), port, controllerPort, settings));
        String bootstrapServers = LOOPBACK + ":" + port;
        long started = System.nanoTime();
        ChildJvm jvm;
        try {
            ChildJvm.Builder builder = ChildJvm.builder(BrokerMain.class)
                    .jvmArgs(brokerJvmArgs(directory.resolve("server.log"), temporary)
                            .toArray(String[]::new))
                    .args(BrokerMain.SERVER_MAIN, properties.toString())
                    .output(directory.resolve("broker.out"));
            jvm = (temporary ? builder : builder.detached()).start();
        } catch (IOException e) {
            throw new UncheckedIOException("starting the Kafka broker's JVM failed", e);
        }
        Thread cleanupAtExit = null;
        if (temporary) {
            cleanupAtExit = new Thread(
                    () -> {
                        jvm.kill();
                        deleteRecursively(directory);
                    },
                    "sluice-kafka-broker-cleanup");
            Runtime.getRuntime().addShutdownHook(cleanupAtExit);
        }
        Admin admin;
        try {
            admin = awaitAnswer(jvm, port, directory);
        } catch (RuntimeException e) {
            jvm.kill();
            if (cleanupAtExit != null) {
                Runtime.getRuntime().removeShutdownHook(cleanupAtExit);
            }
            throw e;
        }
        return new KafkaBroker(
                jvm,
                directory,
                temporary,
                bootstrapServers,
                Duration.ofNanos(System.nanoTime() - started),
                admin,
                cleanupAtExit);
    }

    /**
     * Waits until the broker's port accepts connections, then until the broker describes a cluster with itself in it
     * (an unfenced broker, ready for topics); returns the admin client that asked. An admin client is created only
     * once the port accepts, so it logs no failed connection attempts.
     */
    private static Admin awaitAnswer(ChildJvm jvm, int port, Path directory) {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        Admin admin = null;
        try {
            awaitBroker(jvm, deadline, "the broker's port accepts connections", () -> accepts(port));
            admin = Admin.create(Map.of(
                    AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    LOOPBACK + ":" + port,
                    AdminClientConfig.CLIENT_ID_CONFIG,
                    "sluice-test-broker-admin"));
            Admin asking = admin;
            awaitBroker(
                    jvm,
                    deadline,
                    "the broker describes its cluster",
                    () -> !asking.describeCluster(new DescribeClusterOptions().timeoutMs(2_000))
                            .nodes()
                            .get()
                            .isEmpty());
            return admin;
        } catch (TerminalFailureException e) {
            close(admin);
            throw new IllegalStateException(
                    "the Kafka broker's JVM exited while starting" + diagnostics(jvm, directory), e);
        } catch (ConditionTimeoutException e) {
            close(admin);
            throw new IllegalStateException(
                    "the Kafka broker did not answer within " + STARTUP_TIMEOUT.toSeconds() + " s"
                            + diagnostics(jvm, directory),
                    e);
        }
    }

    private static void awaitBroker(ChildJvm jvm, long deadline, String what, Callable<Boolean> condition) {
        await(what)
                .atMost(Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())))
                .pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(100))
                .failFast("the broker's JVM exited", () -> !jvm.isAlive())
                .ignoreExceptions()
                .until(condition);
    }

    private static void close(Admin admin) {
        if (admin != null) {
            admin.close(Duration.ZERO);
        }
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(LOOPBACK, port), 1_000);
            return true;
        } catch (IOException refused) {
            return false;
        }
    }

    private static String diagnostics(ChildJvm jvm, Path directory) {
        String nl = System.lineSeparator();
        return ". The end of its output:" + nl + jvm.outputTail(20) + nl + "The end of its log:" + nl
                + tail(directory.resolve("server.log"), 30);
    }

    /**
     * The broker's settings. Kafka 4 is KRaft only: this node is broker and controller, the single voter of its own
     * quorum. Internal topics have one replica, and few partitions so that they are created quickly.
     */
    static Map<String, String> serverProperties(
            Path dataDirectory, int port, int controllerPort, Map<String, String> overrides) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@" + LOOPBACK + ":" + controllerPort);
        p.put("listeners", "PLAINTEXT://" + LOOPBACK + ":" + port + ",CONTROLLER://" + LOOPBACK + ":" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://" + LOOPBACK + ":" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", dataDirectory.toString());
        p.put("auto.create.topics.enable", "false");
        p.put("num.partitions", "1");

        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "3");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "3");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("share.coordinator.state.topic.num.partitions", "1");

        // Groups: no wait for more members before the first assignment; a dead member found within 10 s in either
        // protocol (the consumer protocol's session timeout is the broker's, 45 s by default, not the client's).
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("group.consumer.min.session.timeout.ms", "6000");
        p.put("group.consumer.session.timeout.ms", "10000");
        p.put("group.consumer.min.heartbeat.interval.ms", "500");
        p.put("group.consumer.heartbeat.interval.ms", "1000");

        // A two-core machine: fewer threads than a production broker's defaults.
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "4");
        p.put("background.threads", "4");
        p.put("num.recovery.threads.per.data.dir", "1");
        p.put("group.coordinator.threads", "1");
        p.put("share.coordinator.threads", "1");
        p.putAll(overrides);
        return p;
    }

    /**
     * The broker JVM's options: a heap of 512 MB, the serial collector (no collector threads competing for two cores),
     * its SLF4J logging to its own file (through logback, as the tests' logging). A temporary broker's JIT stops at C1,
     * which starts it with about half the CPU time at the cost of steady-state speed; a detached broker, which runs for
     * long, compiles fully.
     */
    private static List<String> brokerJvmArgs(Path logFile, boolean temporary) {
        List<String> args = new ArrayList<>(List.of(
                "-Xms512m",
                "-Xmx512m",
                "-XX:+UseSerialGC",
                "-Djava.awt.headless=true",
                "-Dlogback.configurationFile=kafka-broker-logback.xml",
                logFileOption(logFile)));
        if (temporary) {
            args.add("-XX:TieredStopAtLevel=1");
        }
        if (Runtime.version().feature() >= 24) {
            // The broker unmaps its index files through sun.misc.Unsafe, which JDK 24+ warns about unless allowed.
            args.add("--sun-misc-unsafe-memory-access=allow");
        }
        return args;
    }

    /** The option that names the broker's log file to its logging configuration. */
    static String logFileOption(Path logFile) {
        return "-Dsluice.kafka.log=" + logFile;
    }

    private static void writeProperties(Path file, Map<String, String> properties) {
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (Map.Entry<String, String> entry : properties.entrySet()) {
                out.write(entry.getKey() + "=" + entry.getValue() + System.lineSeparator());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file + " failed", e);
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 0, InetAddress.getByName(LOOPBACK))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("finding a free port on " + LOOPBACK + " failed", e);
        }
    }

    private static Path createTemporaryDirectory() {
        try {
            return Files.createTempDirectory("sluice-kafka-");
        } catch (IOException e) {
            throw new UncheckedIOException("creating the broker's temporary directory failed", e);
        }
    }

    static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join(System.lineSeparator(), all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (NoSuchFileException e) {
            return "(no " + file.getFileName() + " yet)";
        } catch (IOException e) {
            return "(" + file + " unreadable: " + e + ")";
        }
    }

    private static void deleteRecursively(Path directory) {
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (NoSuchFileException e) {
            // already gone
        } catch (IOException e) {
            throw new UncheckedIOException("deleting " + directory + " failed", e);
        }
    }
}
