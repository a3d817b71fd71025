package dev.sluice.pipeline.examples.kafka;

import dev.sluice.pipeline.examples.CommandLine;
import dev.sluice.pipeline.examples.CommandLine.BadInput;
import dev.sluice.pipeline.examples.CommandLine.HelpRequested;
import java.nio.file.Path;
import java.util.List;

/**
 * The Kafka demo's command line.
 *
 * @param instances copies of the job, each a JVM of its own, in one consumer group
 * @param events user events produced to the topic
 * @param kill whether one copy is killed with SIGKILL part way (with one copy, a new copy then replaces it)
 * @param bootstrapServers a running Kafka to use, or null for the broker of {@code scripts/kafka}
 * @param jdbcUrl the PostgreSQL database of the table and the audit trail
 * @param dataDir the folder of the copies' log files
 */
record KafkaDemoOptions(
        int instances, long events, boolean kill, String bootstrapServers, String jdbcUrl, Path dataDir) {

    static final int PARTITIONS = 12;
    static final long DEFAULT_EVENTS = 200_000;
    static final String DEFAULT_JDBC_URL = "jdbc:postgresql://127.0.0.1:5432/sluice_kafka_demo?user=postgres";
    static final Path DEFAULT_DATA_DIR = Path.of("sluice-data", "kafka");

    static final String USAGE = """
            Usage: ./run-demo kafka [options]
            A consumer job on Kafka, scaled out: a topic of user events (12 partitions) read by copies of a job,
            each a JVM of its own, in one consumer group; each enriches the events with a blocking call (in order
            per user) and upserts them into PostgreSQL, with an audit row per run and per rebalance. Part way, one
            copy is killed with SIGKILL: the others take over its partitions and read again what it had not
            committed. At the end the demo checks that every event is in the table exactly once.
              --instances N        copies of the job, 1 to 12 (default 1; with one, a new copy replaces the killed one)
              -n, --events N       user events produced (default 200,000)
              --no-kill            kill no copy
              --bootstrap-servers HOST:PORT
                                   use this running Kafka; by default the demo uses the broker of scripts/kafka,
                                   starting it if it is not running (and stopping it at the end if it started it)
              --jdbc-url URL       the PostgreSQL database (default: the demo's own, sluice_kafka_demo on
                                   127.0.0.1:5432 as user postgres, created if missing)
              --data-dir DIR       where the copies' logs go (default sluice-data/kafka)
              --help               this text
            In that database the demo drops and recreates the table kafka_demo_events on every run, and adds its
            audit rows to audit_logs. Each run uses a topic and a consumer group of its own, and deletes the topic
            at the end.
            Exits 0 only if every event is in the table exactly once, each user's events were written in the order
            they were produced, the events processed twice are no more than a killed copy had in flight, and the
            audit trail has a row for each copy's run and its rebalances; 1 otherwise; 2 for a bad option or a
            database it cannot use.""";

    /** The options in {@code args}; {@code --help} anywhere throws {@link HelpRequested}. */
    static KafkaDemoOptions parse(List<String> args) throws BadInput, HelpRequested {
        int instances = 1;
        long events = DEFAULT_EVENTS;
        boolean kill = true;
        String bootstrap = null;
        String jdbcUrl = DEFAULT_JDBC_URL;
        Path dataDir = DEFAULT_DATA_DIR;
        CommandLine line = new CommandLine(args);
        while (line.hasNext()) {
            String arg = line.next();
            switch (arg) {
                case "--instances" -> {
                    long n = line.number(arg, 1);
                    if (n > PARTITIONS) {
                        throw new BadInput("--instances must be at most " + PARTITIONS
                                + " (the topic's partitions: a copy more would get none), got " + n);
                    }
                    instances = (int) n;
                }
                case "-n", "--events" -> events = line.number(arg, 1);
                case "--no-kill" -> kill = false;
                case "--bootstrap-servers" -> {
                    bootstrap = line.value(arg);
                    if (!bootstrap.matches("[^\\s,:]+:\\d{1,5}(,[^\\s,:]+:\\d{1,5})*")) {
                        throw new BadInput("--bootstrap-servers needs HOST:PORT (several separated by commas), got '"
                                + bootstrap + "'");
                    }
                }
                case "--jdbc-url" -> {
                    jdbcUrl = line.value(arg);
                    if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
                        throw new BadInput("--jdbc-url must be a jdbc:postgresql: URL, got '" + jdbcUrl + "'");
                    }
                }
                case "--data-dir" -> dataDir = line.path(arg);
                default ->
                    throw CommandLine.isOption(arg)
                            ? CommandLine.unknownOption(arg)
                            : new BadInput("unexpected argument '" + arg + "' (the kafka demo takes only options)");
            }
        }
        return new KafkaDemoOptions(instances, events, kill, bootstrap, jdbcUrl, dataDir);
    }
}
