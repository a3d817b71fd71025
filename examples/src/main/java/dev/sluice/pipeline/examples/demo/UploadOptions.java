package dev.sluice.pipeline.examples.demo;

import dev.sluice.pipeline.examples.CommandLine;
import dev.sluice.pipeline.examples.CommandLine.BadInput;
import dev.sluice.pipeline.examples.CommandLine.HelpRequested;
import java.nio.file.Path;
import java.util.List;

/**
 * The command line of {@code ./run-demo upload}.
 *
 * @param slowMillis how long the server's slow phase lasts, in milliseconds (0: no slow phase)
 * @param jdbcUrl the database the demo imported the users into; null for the SQLite file {@code demo.db} in
 *     {@code dataDir}
 * @param dataDir the demo's folder, as {@code ./run-demo --data-dir} took it; never created here
 */
public record UploadOptions(long slowMillis, String jdbcUrl, Path dataDir) {

    public static final long DEFAULT_SLOW_MILLIS = 1_500;

    public static final String USAGE = """
            Usage: ./run-demo upload [options]
            The upload direction: the users that ./run-demo imported are read from its database and streamed back
            to a gRPC server as one client stream (GrpcClientStream). After a third of them the server turns slow
            for a while (a millisecond per user): the client sends only while the call is ready, so it gets at most
            a bounded number of users ahead of the server, and waits. The progress line shows how far ahead it is;
            the summary shows the most it ever was, against the bound.

            Options:
              --slow MS          how long the server's slow phase lasts, in milliseconds (default 1,500; 0: none)
              --data-dir DIR     the demo's folder, as given to ./run-demo (default sluice-data/demo): its
                                 database demo.db holds the users to upload
              --jdbc-url URL     read the users from this database instead (the one given to ./run-demo)
              --help             this text

            Run ./run-demo first: it imports the users. The upload only reads the database.
            Exits 0 only if every user arrived at the server exactly once and the client never got further ahead
            than the bound; 1 otherwise; 2 for a bad option, or a database without imported users.""";

    /** The options in {@code args}; {@code --help} anywhere throws {@link HelpRequested}. */
    public static UploadOptions parse(List<String> args) throws BadInput, HelpRequested {
        long slow = DEFAULT_SLOW_MILLIS;
        String jdbcUrl = null;
        Path dataDir = DemoOptions.DEFAULT_DATA_DIR;
        CommandLine line = new CommandLine(args);
        while (line.hasNext()) {
            String arg = line.next();
            switch (arg) {
                case "--slow" -> slow = line.number(arg, 0);
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
                            : new BadInput("unexpected argument '" + arg + "'");
            }
        }
        return new UploadOptions(slow, jdbcUrl, dataDir);
    }

    /** The SQLite file the users are read from when no JDBC URL is given. */
    public Path database() {
        return dataDir.toAbsolutePath().normalize().resolve(DemoOptions.DATABASE_FILE);
    }
}
