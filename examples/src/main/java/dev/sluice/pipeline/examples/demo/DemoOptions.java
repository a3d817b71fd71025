package dev.sluice.pipeline.examples.demo;

import java.nio.file.Path;
import java.util.List;

/**
 * The demo's command line.
 *
 * @param users how many users the server streams
 * @param failEvery the server fails a call with UNAVAILABLE after this many users (0: never), so resumes show
 * @param slowSinkMillis extra milliseconds the sink spends on each batch (0: none), so backpressure shows
 * @param jdbcUrl where the users and the audit trail go; null for the embedded SQLite file {@code database}
 * @param database the SQLite file used when no JDBC URL is given
 */
public record DemoOptions(long users, long failEvery, long slowSinkMillis, String jdbcUrl, Path database) {

    public static final long DEFAULT_USERS = 1_000_000;
    public static final Path DEFAULT_DATABASE = Path.of("sluice-demo", "demo.db");

    static final String USAGE = """
            Usage: run-demo [options]
              --users N          users the server streams (default 1,000,000)
              --fail-every K     the server fails with UNAVAILABLE every K users; the client resumes (default: never)
              --slow-sink MS     the database sink takes MS more milliseconds per batch of 500 (shows backpressure)
              --jdbc-url URL     write to this database instead of the embedded SQLite file sluice-demo/demo.db,
                                 e.g. jdbc:postgresql://127.0.0.1:5432/test?user=postgres
              --help             this text
            Exits 0 only if every user landed in the database exactly once.""";

    /** Thrown for a command line that cannot be run; the message says what is wrong. */
    public static final class BadOption extends Exception {
        private static final long serialVersionUID = 1L;

        BadOption(String message) {
            super(message);
        }
    }

    /** Thrown for {@code --help}. */
    public static final class HelpRequested extends Exception {
        private static final long serialVersionUID = 1L;

        HelpRequested() {
            super("help");
        }
    }

    public static DemoOptions parse(List<String> args) throws BadOption, HelpRequested {
        long users = DEFAULT_USERS;
        long failEvery = 0;
        long slowSink = 0;
        String jdbcUrl = null;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            String name = arg;
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            switch (name) {
                case "--help", "-h" -> throw new HelpRequested();
                case "--users" -> users = positive(name, value != null ? value : next(args, ++i, name), 1);
                case "--fail-every" -> failEvery = positive(name, value != null ? value : next(args, ++i, name), 1);
                case "--slow-sink" -> slowSink = positive(name, value != null ? value : next(args, ++i, name), 0);
                case "--jdbc-url" -> {
                    jdbcUrl = value != null ? value : next(args, ++i, name);
                    if (!jdbcUrl.startsWith("jdbc:sqlite:") && !jdbcUrl.startsWith("jdbc:postgresql:")) {
                        throw new BadOption(
                                "--jdbc-url must be a jdbc:sqlite: or jdbc:postgresql: URL, got '" + jdbcUrl + "'");
                    }
                }
                default -> throw new BadOption("unknown option '" + arg + "'");
            }
        }
        return new DemoOptions(users, failEvery, slowSink, jdbcUrl, DEFAULT_DATABASE);
    }

    private static String next(List<String> args, int i, String name) throws BadOption {
        if (i >= args.size()) {
            throw new BadOption(name + " needs a value");
        }
        return args.get(i);
    }

    private static long positive(String name, String text, long min) throws BadOption {
        long value;
        try {
            value = Long.parseLong(text.replace("_", "").replace(",", ""));
        } catch (NumberFormatException e) {
            throw new BadOption(name + " needs a whole number, got '" + text + "'");
        }
        if (value < min) {
            throw new BadOption(name + " must be at least " + min + ", got " + value);
        }
        return value;
    }

    /** The JDBC URL the demo writes to. */
    public String effectiveJdbcUrl() {
        return jdbcUrl != null ? jdbcUrl : "jdbc:sqlite:" + database.toAbsolutePath();
    }

    public DemoOptions withDatabase(Path file) {
        return new DemoOptions(users, failEvery, slowSinkMillis, jdbcUrl, file);
    }
}
