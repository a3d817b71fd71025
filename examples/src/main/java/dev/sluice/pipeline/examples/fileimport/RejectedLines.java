package dev.sluice.pipeline.examples.fileimport;

import dev.sluice.pipeline.DeadLetter;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The malformed lines of an import, written where the user can read them: a tab-separated file with a header
 * ({@value #HEADER}) and one row per line set aside: its line number in the input (from 1), why it was refused, and
 * its text as it was. The text comes last and is written unchanged, so a reader splits a row at its first two tabs;
 * the reason has no tab or line break.
 *
 * <p>The file is removed when the import starts and created at the first malformed line: it exists only if the last
 * import set lines aside. Used by the parse stage's thread only (the dead-letter handler runs there); read the count
 * after the run has returned.
 */
final class RejectedLines implements AutoCloseable {

    static final String HEADER = "line\treason\ttext";

    private final Path file;
    private BufferedWriter out;
    private long count;

    /**
     * A record of rejected lines in {@code file}. A file of that name left by an earlier import is removed, unless
     * {@code resuming} an interrupted import: then lines are added to it (a line the interrupted run had set aside
     * after its checkpoint is set aside again).
     */
    RejectedLines(Path file, boolean resuming) throws IOException {
        this.file = file;
        if (!resuming) {
            Files.deleteIfExists(file);
        }
    }

    /** Writes the line a dead letter holds, with the reason it was refused. */
    void add(DeadLetter rejected) throws IOException {
        FileImportJob.Line line = (FileImportJob.Line) rejected.item();
        if (out == null) {
            boolean fresh = !Files.exists(file);
            out = Files.newBufferedWriter(
                    file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            if (fresh) {
                out.write(HEADER);
                out.newLine();
            }
        }
        out.write(Long.toString(line.number()));
        out.write('\t');
        out.write(reason(rejected.error()));
        out.write('\t');
        out.write(line.text());
        out.newLine();
        count++;
    }

    private static String reason(Throwable error) {
        String message = error.getMessage() == null ? error.toString() : error.getMessage();
        return message.replaceAll("[\\t\\r\\n]+", " ");
    }

    /** How many lines were set aside. */
    long count() {
        return count;
    }

    Path file() {
        return file;
    }

    @Override
    public void close() throws IOException {
        if (out != null) {
            out.close();
        }
    }
}
