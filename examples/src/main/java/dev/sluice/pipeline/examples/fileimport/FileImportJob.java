package dev.sluice.pipeline.examples.fileimport;

import dev.sluice.pipeline.ErrorPolicy;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineCancelledException;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.PositionTracker;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.audit.AuditListener;
import dev.sluice.pipeline.audit.AuditStoreException;
import dev.sluice.pipeline.audit.AuditWriter;
import dev.sluice.pipeline.audit.JdbcAuditSink;
import dev.sluice.pipeline.audit.JdbcCheckpointStore;
import dev.sluice.pipeline.examples.CommandLine;
import dev.sluice.pipeline.examples.CommandLine.BadInput;
import dev.sluice.pipeline.examples.CommandLine.HelpRequested;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * A batch job with no gRPC: a large orders file is parsed, transformed and written to a database in batches.
 * Malformed lines are set aside instead of failing the job, in a file beside the database ({@link RejectedLines});
 * the run is audited like any other.
 *
 * <p>Usage: {@code ./run-demo import [FILE | LINES] [--data-dir DIR]} (see {@code --help}). Without a file, it
 * imports a generated one, written the first time, with one malformed line in every thousand.
 */
public final class FileImportJob {

    /** Every this many lines, the generator writes a malformed one. */
    static final int MALFORMED_EVERY = 1_000;

    static final long DEFAULT_LINES = 1_000_000;
    static final Path DEFAULT_DATA_DIR = Path.of("sluice-data", "import");
    static final String DATABASE_FILE = "import.db";
    static final String REJECTED_FILE = "rejected-lines.tsv";

    static final String USAGE = """
            Usage: ./run-demo import [FILE | LINES] [options]
            A batch job: an orders file (id,customer,email,amount per line) is parsed, transformed and written
            to a SQLite database in batches of 1,000; malformed lines are set aside, not fatal; the run is audited.
              FILE             the orders file to import
              LINES            or how many lines to generate and import (default 1,000,000): the file
                               DIR/orders-LINES.csv is written once, with one malformed line in every thousand
              --data-dir DIR   the job's folder, created if missing (default sluice-data/import): the database
                               import.db (its table orders is recreated on every run, unless the last import of
                               the same file was interrupted: then it resumes), rejected-lines.tsv (the
                               malformed lines: line number, reason, text; tab-separated), generated files
              --help           this text
            Exits 0 if every well-formed line was written once; 1 if the import did not complete;
            2 for a bad argument, a missing file or a folder it cannot use.""";

    private FileImportJob() {}

    /** One line of the input: its number (from 1) and its text. */
    record Line(long number, String text) {}

    /** What to import: {@code file}, or a generated file of {@code lines} lines if {@code file} is null. */
    record Options(Path file, long lines, Path dataDir) {}

    /** What an import did, and where it left its output. */
    record Outcome(
            PipelineResult<Long> result,
            long rejectedLines,
            Path rejectedFile,
            OrderTable.Totals totals,
            Path input,
            Path database,
            boolean resumed) {}

    public static void main(String[] args) throws Exception {
        System.exit(run(List.of(args)));
    }

    /** Runs the import the arguments describe and prints its summary; returns the process's exit code. */
    public static int run(List<String> args) throws Exception {
        return CommandLine.run("run-demo import", USAGE, () -> importAndReport(parse(args)));
    }

    static Options parse(List<String> args) throws BadInput, HelpRequested {
        Path file = null;
        long lines = DEFAULT_LINES;
        boolean positional = false;
        Path dataDir = DEFAULT_DATA_DIR;
        CommandLine line = new CommandLine(args);
        while (line.hasNext()) {
            String arg = line.next();
            if (arg.equals("--data-dir")) {
                dataDir = line.path(arg);
            } else if (positional) {
                throw new BadInput("unexpected argument '" + arg + "': give one FILE or LINES");
            } else if (arg.matches("-?[\\d_,]+")) {
                lines = CommandLine.number("LINES", arg, 1);
                positional = true;
            } else if (CommandLine.isOption(arg)) {
                throw CommandLine.unknownOption(arg);
            } else {
                file = path(arg);
                positional = true;
            }
        }
        return new Options(file, lines, dataDir);
    }

    private static Path path(String text) throws BadInput {
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            throw new BadInput("'" + text + "' is neither a file nor a number of lines (" + e.getReason() + ")");
        }
    }

    /** {@code file} as an absolute path, if it is a file this job can read. */
    private static Path readable(Path file) throws BadInput {
        if (!Files.exists(file)) {
            throw new BadInput(
                    "no file '" + file + "' (" + file.toAbsolutePath().normalize()
                            + "), and it is not a number of lines either: give an orders file or how many lines to generate");
        }
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new BadInput("'" + file + "' is not a readable file");
        }
        return file.toAbsolutePath().normalize();
    }

    private static int importAndReport(Options options) throws Exception {
        Outcome o;
        try {
            o = options.file() == null
                    ? importGenerated(options.dataDir(), options.lines())
                    : importFile(readable(options.file()), options.dataDir());
        } catch (PipelineFailedException | PipelineCancelledException e) {
            System.err.println("run-demo import: the import did not complete: " + CommandLine.oneLine(e.getMessage()));
            return 1;
        }
        System.out.printf(
                Locale.ROOT,
                "imported %,d orders from %s in %.1f s (%,.0f lines/s) into %s (table %s)%n",
                o.totals().rows(),
                o.input(),
                o.result().duration().toNanos() / 1e9,
                o.result().summary().stage("source").orElseThrow().itemsPerSecond(),
                o.database(),
                OrderTable.TABLE);
        System.out.println(
                o.rejectedLines() == 0
                        ? "no malformed lines"
                        : String.format(
                                Locale.ROOT,
                                "%,d malformed lines set aside in %s (line number, reason, text)",
                                o.rejectedLines(),
                                o.rejectedFile()));
        System.out.printf(
                Locale.ROOT,
                "table: %,d rows, %,d distinct ids, %,d cents in all%n",
                o.totals().rows(),
                o.totals().distinctIds(),
                o.totals().amountCents());
        if (o.resumed()) {
            System.out.printf(
                    Locale.ROOT,
                    "resumed an interrupted import: %,d rows written again%n",
                    o.totals().rewrites());
            return o.totals().rows() == o.totals().distinctIds() ? 0 : 1;
        }
        return o.totals().rows() == o.result().itemCount() ? 0 : 1;
    }

    /** Imports a generated file of {@code lines} lines in {@code dir}, writing it first if it is not there. */
    static Outcome importGenerated(Path dir, long lines) throws Exception {
        Path absolute = CommandLine.createDirectory("--data-dir", dir);
        Path file = absolute.resolve("orders-" + lines + ".csv");
        if (!Files.exists(file)) {
            generate(file, lines);
        }
        return importFile(file, absolute);
    }

    /**
     * Imports {@code file} into the database in {@code dir}; malformed lines go to the rejected file there.
     *
     * <p>Restartable: every batch is upserted together with the checkpoint (the first line not yet done) in one
     * transaction, so an import killed at any moment, even with {@code kill -9}, resumes at its checkpoint when run
     * again on the same file, keeping the rows it wrote, and rewrites at most the last batch it had written (the
     * upsert makes that harmless). An import that completes removes its checkpoint: the next run starts afresh.
     */
    static Outcome importFile(Path file, Path dir) throws Exception {
        Path absolute = CommandLine.createDirectory("--data-dir", dir);
        Path database = absolute.resolve(DATABASE_FILE);
        String url = "jdbc:sqlite:" + database;
        JdbcCheckpointStore checkpoints = JdbcCheckpointStore.sqlite(database);
        String checkpoint = checkpointName(file);
        OptionalLong saved;
        try {
            saved = checkpoints.load(checkpoint);
        } catch (AuditStoreException e) {
            throw new BadInput("cannot use the database " + database + ": " + e.getMessage());
        }
        long resumeAt = saved.orElse(1); // a line number: the first line not known to be done
        try (RejectedLines rejected = new RejectedLines(absolute.resolve(REJECTED_FILE), saved.isPresent());
                OrderTable table = saved.isPresent() ? OrderTable.reopen(url) : OrderTable.recreate(url);
                AuditWriter audit =
                        AuditWriter.builder(JdbcAuditSink.forUrl(url)).build()) {
            PositionTracker tracker = new PositionTracker(resumeAt);
            Source<Line> fileLines = emitter -> {
                // undecodable bytes become U+FFFD: a line is malformed or not by its fields, never by its encoding
                try (BufferedReader reader =
                        new BufferedReader(new InputStreamReader(Files.newInputStream(file), StandardCharsets.UTF_8))) {
                    long number = 0;
                    for (String text; (text = reader.readLine()) != null; ) {
                        if (++number >= resumeAt) {
                            emitter.emit(new Line(number, text), tracker.track(number));
                        }
                    }
                }
            };
            PipelineResult<Long> result = Pipeline.from(fileLines)
                    .pipelineName("orders-file-import")
                    .listener(AuditListener.to(audit))
                    .map(line -> Order.parse(line.text()))
                    .named("parse")
                    .onError(ErrorPolicy.deadLetter(rejected::add)) // a bad line is set aside, not fatal
                    .map(Order::normalized)
                    .named("transform")
                    .batch(1_000, Duration.ofMillis(100))
                    .to(Sink.<List<Order>>forEach(batch -> table.upsert(batch, checkpoint, tracker.committable()))
                            .named("write"))
                    .run();
            checkpoints.delete(checkpoint);
            return new Outcome(
                    result, rejected.count(), rejected.file(), table.totals(), file, database, saved.isPresent());
        }
    }

    /**
     * The checkpoint of an import of {@code file}: one per file, so that imports of different files never mix. A path
     * too long for a checkpoint name ({@link JdbcCheckpointStore#MAX_NAME_LENGTH}) is named by its SHA-256.
     */
    static String checkpointName(Path file) {
        String path = file.toAbsolutePath().normalize().toString();
        String name = CHECKPOINT_PREFIX + path;
        if (name.codePointCount(0, name.length()) <= JdbcCheckpointStore.MAX_NAME_LENGTH) {
            return name;
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(path.getBytes(StandardCharsets.UTF_8));
            return CHECKPOINT_PREFIX + "sha256:" + HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static final String CHECKPOINT_PREFIX = "orders-file-import:";

    /** Writes {@code lines} order lines, one in {@value #MALFORMED_EVERY} malformed. */
    static void generate(Path file, long lines) throws IOException {
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        try (BufferedWriter out = Files.newBufferedWriter(partial)) {
            for (long i = 0; i < lines; i++) {
                if (i % MALFORMED_EVERY == MALFORMED_EVERY - 1) {
                    out.write(i + ",broken line without an amount");
                } else {
                    out.write(i + ",CUSTOMER" + (i % 997) + ",Customer" + i + "@Example.COM," + (i % 10_000) + "."
                            + (i % 100));
                }
                out.newLine();
            }
        }
        Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING);
    }
}
