package dev.sluice.pipeline.examples.demo;

import dev.sluice.pipeline.PipelineSnapshot;
import dev.sluice.pipeline.StageStats;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.function.LongSupplier;

/**
 * The live progress line: users done, users per second, how full the links are, how far the server's producer
 * is ahead of the database, and the time left once the rate has settled ({@link Eta}). On a terminal it owns the
 * bottom line ({@link StatusLine}: log lines are printed above it); otherwise it prints a line every few updates.
 *
 * <p>Updated by one thread at a time (the run's monitor).
 */
final class ProgressLine {
    private final PrintStream out;
    private final long total;
    private final LongSupplier written;
    private final LongSupplier serverAhead;
    private final StatusLine terminal;
    /** Recent samples for {@link Eta}, oldest first; only the last {@link Eta#WINDOWS} windows' worth are kept. */
    private final List<Eta.Sample> samples = new ArrayList<>();

    private int updates;
    private long lastLinksFull;

    /**
     * @param terminal the terminal's status line, or null when the output is not a terminal
     */
    ProgressLine(PrintStream out, long total, LongSupplier written, LongSupplier serverAhead, StatusLine terminal) {
        this.out = out;
        this.total = total;
        this.written = written;
        this.serverAhead = serverAhead;
        this.terminal = terminal;
    }

    void update(PipelineSnapshot s) {
        long done = written.getAsLong();
        long nanos = s.elapsed().toNanos();
        long buffered = 0;
        long capacity = 0;
        for (StageStats stage : s.stages()) {
            buffered += stage.buffered();
            capacity += stage.capacity();
        }
        samples.add(new Eta.Sample(nanos, done));
        while (samples.size() > 2 && samples.get(1).nanos() <= nanos - Eta.WINDOWS * Eta.WINDOW_NANOS) {
            samples.removeFirst();
        }
        lastLinksFull = capacity == 0 ? 0 : 100 * buffered / capacity;
        String line = line(done, nanos, lastLinksFull);
        if (terminal != null) {
            terminal.show(line);
        } else if (updates++ % 8 == 0) {
            out.println(line);
        }
    }

    private String line(long done, long nanos, long linksFull) {
        OptionalLong left = Eta.secondsLeft(samples, total);
        return String.format(
                Locale.ROOT,
                "users %,d/%,d %.1f%% | %,.0f/s | links %d%% full | server ahead %,d | ETA %s",
                done,
                total,
                100.0 * done / total,
                nanos == 0 ? 0 : done * 1e9 / nanos,
                linksFull,
                serverAhead.getAsLong(),
                left.isPresent() ? left.getAsLong() + "s" : "--");
    }

    /**
     * Ends the progress line after the run: on a terminal it is drawn a last time with what was written by the end
     * (the last update may have come before the last batch), and later output goes below it.
     */
    void end(Duration elapsed) {
        if (terminal != null) {
            long done = written.getAsLong();
            samples.add(new Eta.Sample(elapsed.toNanos(), done));
            terminal.show(line(done, elapsed.toNanos(), lastLinksFull));
            terminal.finish();
        }
    }
}
