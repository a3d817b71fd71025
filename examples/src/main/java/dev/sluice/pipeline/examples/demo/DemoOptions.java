package dev.sluice.pipeline.examples.demo;

import dev.sluice.pipeline.examples.CommandLine;
import dev.sluice.pipeline.examples.CommandLine.BadInput;
import dev.sluice.pipeline.examples.CommandLine.HelpRequested;
import java.nio.file.Path;
import java.util.List;

/**
 * The demo's command line.
 *
 * @param users how many users the server streams
 * @param failEvery the server fails a call with UNAVAILABLE after this many users (0: never), so resumes show
 * @param slowSinkMillis extra milliseconds the sink spends on each batch (0: none), so backpressure shows
 * @param jdbcUrl where the users and the audit trail go; null for the SQLite file {@code demo.db} in {@code dataDir}
 * @param dataDir the folder of the demo's files: the SQLite database (unless {@code jdbcUrl} names another) and the
 *     audit spill file; created if missing
 */
public record DemoOptions(long users, long failEvery, long slowSinkMillis, String jdbcUrl, Path dataDir) {

    public static final long DEFAULT_USERS = 1_000_000;
    public static final Path DEFAULT_DATA_DIR = Path.of("sluice-data", "demo");
    static final String DATABASE_FILE = "demo.db";
    static final String SPILL_FILE = "audit-spill.jsonl";

    public static final String USAGE = """
            Usage: ./run-demo [demo] [options]        a gRPC stream of users imported into a database, audited, checked
                   ./run-demo consumer [options]      a job that consumes until Ctrl-C, then stops gracefully
                   ./run-demo import [FILE | LINES]   a file imported in batches, malformed lines set aside
                   ./run-demo upload [options]        the imported users streamed back to a server, flow controlled
                   ./run-demo kafka [options]         a Kafka consumer job on several JVMs, one killed, checked
            (each with --help for its own options)

            Options of the demo:
              --users N          users the server streams (default 1,000,000)
              --fail-every K     the server fails with UNAVAILABLE every K users; the client resumes (default: never)
              --slow-sink MS     the database sink takes MS more milliseconds per batch of 500 (shows backpressure)
              --data-dir DIR     the demo's folder, created if missing (default sluice-data/demo): its SQLite
                                 database demo.db, and the audit spill file
              --jdbc-url URL     write to this database instead of DIR/demo.db: jdbc:sqlite:FILE, or PostgreSQL,
                                 e.g. jdbc:postgresql://127.0.0.1:5432/sluice_demo?user=postgres
                                 (create that database first: createdb -h 127.0.0.1 -U postgres sluice_demo)
              --help             this text

            In that database the demo drops and recreates the table demo_users on every run, but only a
            demo_users it created itself (it records that in the table sluice_demo_meta): it refuses one it did
            not create and leaves it untouched. It adds the run's audit rows to audit_logs (created if missing,
            never dropped).
            Exits 0 only if every user landed in the database exactly once; 1 if the run did not complete;
            2 for a bad option or a database it cannot use.""";

    /** The options in {@code args}; {@code --help} anywhere throws {@link HelpRequested}. */
    public static DemoOptions parse(List<String> args) throws BadInput, HelpRequested {
        long users = DEFAULT_USERS;
        long failEvery = 0;
        long slowSink = 0;
        String jdbcUrl = null;
        Path dataDir = DEFAULT_DATA_DIR;
        CommandLine line = new CommandLine(args);
        while (line.hasNext()) {
            String arg = line.next();
            switch (arg) {
                case "--users" -> users = line.number(arg, 1);
                case "--fail-every" -> failEvery = line.number(arg, 1);
                case "--slow-sink" -> slowSink = line.number(arg, 0);
                case "--data-dir" -> dataDir = line.path(arg);
                case "--jdbc-url" -> {
                    jdbcUrl = line.value(arg);
                    if (!jdbcUrl.startsWith("jdbc:sqlite:") && !jdbcUrl.startsWith("jdbc:postgresql:")) {
                        throw new BadInput(
                                "--jdbc-url must be a jdbc:sqlite: or jdbc:postgresql: URL, got '" + jdbcUrl + "'");
                    }
                }
                default ->
                    throw CommandLine.isOption(arg)
                            ? CommandLine.unknownOption(arg)
                            : new BadInput(
                                    "unexpected argument '" + arg
                                            + "' (the commands are demo, consumer, import, upload and kafka, before any option)");
            }
        }
        return new DemoOptions(users, failEvery, slowSink, jdbcUrl, dataDir);
    }

    /** The JDBC URL the demo writes to. */
    public String effectiveJdbcUrl() {
        return jdbcUrl != null ? jdbcUrl : "jdbc:sqlite:" + database();
    }

    /** The SQLite file the demo writes to when no JDBC URL is given. */
    public Path database() {
        return dataDir.toAbsolutePath().normalize().resolve(DATABASE_FILE);
    }

    /** The audit writer's spill file. */
    public Path spillFile() {
        return dataDir.toAbsolutePath().normalize().resolve(SPILL_FILE);
    }

    public DemoOptions withDataDir(Path dir) {
        return new DemoOptions(users, failEvery, slowSinkMillis, jdbcUrl, dir);
    }
}
