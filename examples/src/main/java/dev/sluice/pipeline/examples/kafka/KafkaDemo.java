package dev.sluice.pipeline.examples.kafka;

import dev.sluice.pipeline.examples.CommandLine;
import dev.sluice.pipeline.examples.CommandLine.BadInput;
import dev.sluice.pipeline.examples.Database;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code ./run-demo kafka}: copies of {@link UserEventsJob} in JVMs of their own share a topic of user events through
 * a consumer group; one is killed part way, the others take over; at the end the table is checked (see
 * {@link KafkaDemoOptions#USAGE}).
 */
public final class KafkaDemo {

    /** How long the copies may take to join the group and share the partitions. */
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(60);
    /** How long the table may go without a new row before the demo gives up. */
    private static final Duration STALL_TIMEOUT = Duration.ofSeconds(90);

    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(1);
    /** How often the table is counted, and a kill considered. */
    private static final Duration TICK = Duration.ofMillis(250);

    private static final int USERS = 5_000;

    private final KafkaDemoOptions options;
    private final PrintStream out;
    private final long started = System.nanoTime();
    private final String runId = UUID.randomUUID().toString().substring(0, 8);
    /** Set when the demo is stopped by a signal: the copies' ends are then expected. */
    private volatile boolean signalled;
    /** Added to by the demo's thread; read by the cleanup at exit too. */
    private final List<JobInstance> instances = new CopyOnWriteArrayList<>();

    private KafkaDemo(KafkaDemoOptions options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(List.of(args)));
    }

    /** Runs the demo with the options in {@code args}; returns the process's exit code. */
    public static int run(List<String> args) throws Exception {
        return CommandLine.run(
                "run-demo kafka",
                KafkaDemoOptions.USAGE,
                () -> new KafkaDemo(KafkaDemoOptions.parse(args), System.out).run());
    }

    private int run() throws Exception {
        Path logs = CommandLine.createDirectory("--data-dir", options.dataDir());
        try (EventTable table = EventTable.recreate(options.jdbcUrl());
                DemoBroker broker = DemoBroker.open(options.bootstrapServers(), out)) {
            // Ctrl-C: the copies stop (they get the signal too, and follow their parent), and so does a broker started
            // here
            Thread cleanup = new Thread(
                    () -> {
                        signalled = true;
                        destroyInstances();
                        broker.closeQuietly();
                    },
                    "kafka-demo-cleanup");
            Runtime.getRuntime().addShutdownHook(cleanup);
            String topic = "user-events-" + runId;
            String group = "user-events-job-" + runId;
            try (Admin admin =
                    Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
                createTopic(admin, topic);
                try {
                    return runJobs(table, broker.bootstrapServers(), topic, group, logs);
                } finally {
                    destroyInstances();
                    if (!signalled) {
                        admin.deleteTopics(List.of(topic));
                    }
                }
            } finally {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            }
        }
    }

    private int runJobs(EventTable table, String bootstrap, String topic, String group, Path logs) throws Exception {
        long n = options.events();
        for (int i = 1; i <= options.instances(); i++) {
            start(i, bootstrap, topic, group, logs);
        }
        out.printf(
                "started %d %s of the job (JVMs %s), group %s; logs in %s%n",
                instances.size(),
                instances.size() == 1 ? "copy" : "copies",
                instances.stream()
                        .map(j -> "#" + j.number() + " pid " + j.pid())
                        .toList(),
                group,
                logs);
        String notShared = awaitPartitionsShared();
        if (notShared != null) {
            out.println(notShared);
            return 1;
        }
        out.println("partitions held: " + held());

        long producing = System.nanoTime();
        produce(bootstrap, topic, n);
        out.printf(
                "produced %,d user events (%,d users) to %s (%d partitions) in %.1f s%n",
                n, Math.min(USERS, n), topic, KafkaDemoOptions.PARTITIONS, seconds(System.nanoTime() - producing));

        out.println("progress (each copy: #number, partitions it holds, events it wrote):");
        long duplicatesBound = 0;
        boolean killDone = !options.kill();
        long rows = 0;
        long lastChange = System.nanoTime();
        long lastPrint = System.nanoTime();
        while (rows < n) {
            Thread.sleep(TICK);
            long now = table.rows();
            if (now != rows) {
                rows = now;
                lastChange = System.nanoTime();
            } else if (System.nanoTime() - lastChange > STALL_TIMEOUT.toNanos()) {
                out.printf(
                        "no event written for %d s: giving up; the copies' logs are in %s%n",
                        STALL_TIMEOUT.toSeconds(), logs);
                return 1;
            }
            if (rows == n || System.nanoTime() - lastPrint >= PROGRESS_EVERY.toNanos()) {
                lastPrint = System.nanoTime();
                out.printf("%,9d / %,d in the table   %s%n", rows, n, progress());
            }
            if (!killDone && rows >= n / 3 && rows < n) {
                killDone = true;
                JobInstance victim = instances.getLast();
                victim.kill();
                long inFlight = UserEventsJob.IN_FLIGHT + victim.processedInLastSecond();
                duplicatesBound += inFlight;
                out.printf(
                        "killed copy #%d (SIGKILL, pid %d) after %,d events: it had at most %,d in flight; %s%n",
                        victim.number(),
                        victim.pid(),
                        victim.processed(),
                        inFlight,
                        instances.size() == 1
                                ? "a new copy takes its place"
                                : "the others take over its partitions once the group misses its heartbeats");
                if (instances.size() == 1) {
                    start(2, bootstrap, topic, group, logs);
                }
            }
            for (JobInstance j : instances) {
                if (!j.killed() && !j.isAlive() && !signalled) {
                    out.printf("copy #%d ended by itself (%s); its log: %s%n", j.number(), j.lastWord(), log(logs, j));
                    return 1;
                }
            }
        }

        out.println("every event is in the table: stopping the copies (SIGTERM: drain, commit, leave the group)");
        for (JobInstance j : instances) {
            if (!j.killed()) {
                j.destroy(); // all at once: each drains and leaves the group in parallel
            }
        }
        for (JobInstance j : instances) {
            if (!j.killed()) {
                int code = j.stop(30);
                String[] stopped = j.lastWord().split(" ");
                if (stopped.length == 3 && stopped[0].equals("stopped")) {
                    out.printf(
                            "  copy #%d stopped: outcome %s, %,d events written (exit %d)%n",
                            j.number(), stopped[1], Long.parseLong(stopped[2]), code);
                } else {
                    out.printf("  copy #%d: %s (exit %d)%n", j.number(), j.lastWord(), code);
                }
            }
        }
        return check(table, n, duplicatesBound);
    }

    private int check(EventTable table, long n, long duplicatesBound) throws Exception {
        EventTable.Check check = table.check(n);
        Audit audit = audit();
        boolean duplicatesOk = check.duplicates() <= duplicatesBound;
        boolean auditOk = audit.runRows() == instances.size() && audit.everyCopyAssigned();
        out.printf(
                "check: %,d events produced, %,d rows in %s, %s%n",
                n,
                check.rows(),
                EventTable.TABLE,
                check.everyEventOnce() ? "every event exactly once" : "NOT every event exactly once");
        out.printf(
                "order per user: %s%n",
                check.outOfOrder() == 0
                        ? "kept (each user's events were first written in the order they were produced)"
                        : String.format(
                                "%,d events were written before an earlier event of their user", check.outOfOrder()));
        out.printf(
                "duplicates processed: %,d (replays of what a killed copy had not committed; at most %,d) %s%n",
                check.duplicates(), duplicatesBound, duplicatesOk ? "ok" : "TOO MANY");
        out.printf(
                "audit trail (audit_logs, correlation %s-*): run rows %s; rebalance rows %s %s%n",
                runId, audit.runs(), audit.rebalances(), auditOk ? "ok" : "MISSING ROWS");
        boolean passed = check.everyEventOnce() && check.outOfOrder() == 0 && duplicatesOk && auditOk;
        out.printf("%s in %.1f s%n", passed ? "PASSED" : "FAILED", seconds(System.nanoTime() - started));
        return passed ? 0 : 1;
    }

    /** The audit rows of this demo's copies: run rows by outcome, rebalance rows by kind. */
    private record Audit(
            Map<String, Integer> runs, Map<String, Integer> rebalances, int runRows, boolean everyCopyAssigned) {}

    private Audit audit() throws SQLException {
        Map<String, Integer> runs = new TreeMap<>();
        Map<String, Integer> rebalances = new TreeMap<>();
        java.util.Set<String> assigned = new java.util.HashSet<>();
        int runRows = 0;
        try (Connection c = Database.connect(options.jdbcUrl());
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT correlation_id, event_type, audit_data->>'outcome' FROM audit_logs"
                        + " WHERE correlation_id LIKE '" + runId + "-%'")) {
            while (r.next()) {
                String outcome = r.getString(3);
                if (r.getString(2).equals(RebalanceAudit.EVENT_TYPE)) {
                    rebalances.merge(outcome, 1, Integer::sum);
                    if (outcome.equals("ASSIGNED")) {
                        assigned.add(r.getString(1));
                    }
                } else {
                    runs.merge(outcome, 1, Integer::sum);
                    runRows++;
                }
            }
        }
        boolean everyCopyAssigned = instances.stream().allMatch(j -> assigned.contains(j.correlationId()));
        return new Audit(runs, rebalances, runRows, everyCopyAssigned);
    }

    private void start(int number, String bootstrap, String topic, String group, Path logs) throws Exception {
        JobInstance j = JobInstance.start(
                number,
                runId + "-" + number,
                bootstrap,
                topic,
                group,
                options.jdbcUrl(),
                logs.resolve("copy-" + number + ".log"));
        instances.add(j);
    }

    private static Path log(Path logs, JobInstance j) {
        return logs.resolve("copy-" + j.number() + ".log");
    }

    /**
     * Waits until the copies hold every partition between them, each some; returns null then, or what went wrong.
     */
    private String awaitPartitionsShared() throws InterruptedException {
        long deadline = System.nanoTime() + JOIN_TIMEOUT.toNanos();
        while (!(instances.stream().allMatch(j -> j.partitions() > 0)
                && instances.stream().mapToInt(JobInstance::partitions).sum() == KafkaDemoOptions.PARTITIONS)) {
            if (System.nanoTime() > deadline) {
                return "the copies did not share the partitions within " + JOIN_TIMEOUT.toSeconds() + " s (held: "
                        + held() + "); their logs are in " + options.dataDir();
            }
            for (JobInstance j : instances) {
                if (!j.isAlive()) {
                    return "copy #" + j.number() + " ended while joining the group (" + j.lastWord() + "); its log: "
                            + log(options.dataDir(), j);
                }
            }
            Thread.sleep(100);
        }
        return null;
    }

    private String held() {
        return String.join(
                ", ",
                instances.stream()
                        .map(j -> "#" + j.number() + " " + j.partitions())
                        .toList());
    }

    private String progress() {
        StringBuilder line = new StringBuilder();
        for (JobInstance j : instances) {
            line.append(String.format(
                    "  #%d %s %,d", j.number(), j.killed() ? "killed" : j.partitions() + "p", j.processed()));
        }
        return line.toString().strip();
    }

    private static void createTopic(Admin admin, String topic) throws Exception {
        try {
            admin.createTopics(List.of(new NewTopic(topic, KafkaDemoOptions.PARTITIONS, (short) 1)))
                    .all()
                    .get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new BadInput(
                    "cannot create the topic " + topic + ": " + CommandLine.oneLine(String.valueOf(e.getCause())));
        } catch (TimeoutException e) {
            throw new BadInput("cannot create the topic " + topic + ": the broker did not answer within 60 s");
        }
    }

    /** Produces events {@code 0 .. n - 1}, keyed by user, so that each user's events are in order in one partition. */
    private static void produce(String bootstrap, String topic, long n) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(
                Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        bootstrap,
                        ProducerConfig.LINGER_MS_CONFIG,
                        10,
                        ProducerConfig.BATCH_SIZE_CONFIG,
                        128 * 1024),
                new StringSerializer(),
                new StringSerializer())) {
            int users = (int) Math.min(USERS, n);
            AtomicReference<Exception> failure = new AtomicReference<>();
            for (long id = 0; id < n && failure.get() == null; id++) {
                UserEvent e = UserEvent.of(id, users);
                producer.send(new ProducerRecord<>(topic, e.userId(), e.value()), (metadata, error) -> {
                    if (error != null) {
                        failure.compareAndSet(null, error);
                    }
                });
            }
            producer.flush();
            if (failure.get() != null) {
                throw new BadInput("producing to " + topic + " at " + bootstrap + " failed: "
                        + CommandLine.oneLine(failure.get().toString()));
            }
        }
    }

    private void destroyInstances() {
        for (JobInstance j : instances) {
            j.destroy();
        }
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
