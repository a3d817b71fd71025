package dev.sluice.pipeline.examples.demo;

import dev.sluice.pipeline.PipelineSnapshot;
import dev.sluice.pipeline.StageStats;
import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The live progress line: users done, users per second, how full the links are, how far the server's producer
 * is ahead of the database, and the time left. On a terminal it rewrites one line; otherwise it prints a line
 * every few updates.
 */
final class ProgressLine {
    private final PrintStream out;
    private final long total;
    private final LongSupplier written;
    private final LongSupplier serverAhead;
    private final boolean terminal;
    private int updates;

    ProgressLine(PrintStream out, long total, LongSupplier written, LongSupplier serverAhead, boolean terminal) {
        this.out = out;
        this.total = total;
        this.written = written;
        this.serverAhead = serverAhead;
        this.terminal = terminal;
    }

    void update(PipelineSnapshot s) {
        long done = written.getAsLong();
        double rate = s.elapsed().toNanos() == 0 ? 0 : done * 1e9 / s.elapsed().toNanos();
        long buffered = 0;
        long capacity = 0;
        for (StageStats stage : s.stages()) {
            buffered += stage.buffered();
            capacity += stage.capacity();
        }
        String eta = rate <= 0 ? "?" : String.format(Locale.ROOT, "%.0fs", (total - done) / rate);
        String line = String.format(
                Locale.ROOT,
                "users %,d / %,d (%.1f%%) | %,.0f users/s | links %d%% full | server ahead %,d | ETA %s",
                done,
                total,
                100.0 * done / total,
                rate,
                capacity == 0 ? 0 : 100 * buffered / capacity,
                serverAhead.getAsLong(),
                eta);
        if (terminal) {
            out.print("\r" + line + "   ");
            out.flush();
        } else if (updates++ % 8 == 0) {
            out.println(line);
        }
    }

    void end() {
        if (terminal) {
            out.println();
        }
    }
}
