package dev.sluice.pipeline.examples.fileimport;

import dev.sluice.pipeline.DeadLetter;
import dev.sluice.pipeline.ErrorPolicy;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.audit.AuditListener;
import dev.sluice.pipeline.audit.AuditWriter;
import dev.sluice.pipeline.audit.JdbcAuditSink;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A batch job with no gRPC: a large orders file is parsed, transformed and written to a database in batches.
 * Malformed lines go to a dead-letter list instead of failing the job; the run is audited like any other.
 *
 * <p>Usage: {@code FileImportJob [lines] [directory]} (default 1,000,000 lines in {@code sluice-import/}). The
 * file is generated the first time, with one malformed line in every thousand.
 */
public final class FileImportJob {

    /** Every this many lines, the generator writes a malformed one. */
    static final int MALFORMED_EVERY = 1_000;

    private FileImportJob() {}

    /** What an import did. */
    record Outcome(PipelineResult<Long> result, List<DeadLetter> rejected, OrderTable.Totals totals) {}

    public static void main(String[] args) throws Exception {
        long lines = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000;
        Path dir = Path.of(args.length > 1 ? args[1] : "sluice-import").toAbsolutePath();
        Outcome o = run(dir, lines);
        System.out.printf(
                Locale.ROOT,
                "imported %,d orders in %.1f s (%,.0f lines/s), %,d rejected lines; table: %s%n",
                o.totals().rows(),
                o.result().duration().toNanos() / 1e9,
                o.result().summary().stage("source").orElseThrow().itemsPerSecond(),
                o.rejected().size(),
                o.totals());
        System.exit(o.totals().rows() == o.result().itemCount() ? 0 : 1);
    }

    static Outcome run(Path dir, long lines) throws Exception {
        Files.createDirectories(dir);
        Path file = dir.resolve("orders-" + lines + ".csv");
        if (!Files.exists(file)) {
            generate(file, lines);
        }
        String url = "jdbc:sqlite:" + dir.resolve("import.db");
        List<DeadLetter> rejected = new CopyOnWriteArrayList<>();
        try (OrderTable table = new OrderTable(url);
                AuditWriter audit =
                        AuditWriter.builder(JdbcAuditSink.forUrl(url)).build()) {
            Source<String> fileLines = emitter -> {
                try (BufferedReader reader = Files.newBufferedReader(file)) {
                    for (String line; (line = reader.readLine()) != null; ) {
                        emitter.emit(line);
                    }
                }
            };
            PipelineResult<Long> result = Pipeline.from(fileLines)
                    .named("orders-file-import")
                    .listener(AuditListener.to(audit))
                    .map(Order::parse)
                    .as("parse")
                    .onError(ErrorPolicy.deadLetter(rejected::add)) // a bad line is set aside, not fatal
                    .map(Order::normalized)
                    .as("transform")
                    .batch(1_000, Duration.ofMillis(100))
                    .to(Sink.<List<Order>>forEach(table::insert).named("write"))
                    .run();
            return new Outcome(result, rejected, table.totals());
        }
    }

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
        Files.move(partial, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
