package dev.sluice.pipeline.examples.demo;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bottom line of a terminal, owned by a live status (the demo's progress line), with log lines printed above
 * it: while a status is shown, a log line first clears it, then prints itself, then redraws the status, so the
 * status is never broken into and no log line is overwritten.
 *
 * <p>The status is redrawn in place with a carriage return and erased with the ANSI "erase to end of line"
 * sequence; it is cut to the terminal's width less one ({@code COLUMNS}, 80 if unset), since a line that wraps
 * cannot be redrawn in place.
 *
 * <p>Thread-safe: one lock orders every write to both streams, and each write is flushed before the lock is
 * released, so the two streams reach the terminal in the order they were written.
 */
public final class StatusLine {

    private static final String ERASE_TO_END = "\u001b[K";
    private static final StatusLine CONSOLE = new StatusLine(System.out, System.err, columns());

    private final ReentrantLock lock = new ReentrantLock();
    private final PrintStream statusOut;
    private final OutputStream logOut;
    private final int width;
    /** The status on screen, or null when none is: guarded by {@link #lock}. */
    private String shown;

    /**
     * A status line written to {@code statusOut}, with log lines written to {@code logOut} (both may be one
     * stream), on a terminal {@code columns} wide.
     */
    StatusLine(PrintStream statusOut, OutputStream logOut, int columns) {
        this.statusOut = statusOut;
        this.logOut = logOut;
        this.width = Math.max(10, columns - 1);
    }

    /** The process's: status on stdout, log lines on stderr. */
    public static StatusLine console() {
        return CONSOLE;
    }

    /** Whether this process writes to a terminal (and not a file or a pipe): only there may a line be redrawn. */
    static boolean isTerminal() {
        java.io.Console console = System.console();
        if (console == null) {
            return false;
        }
        try { // JDK 22+ may return a console when stdout is redirected, and says so through isTerminal()
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException beforeJdk22) {
            return true;
        }
    }

    /** Shows {@code status}, replacing the one shown. */
    void show(String status) {
        String text = status.length() > width ? status.substring(0, width) : status;
        lock.lock();
        try {
            shown = text;
            statusOut.print("\r" + text + ERASE_TO_END);
            statusOut.flush();
        } finally {
            lock.unlock();
        }
    }

    /** Leaves the status shown as it is, ends its line, and shows none from now on: later log lines go below it. */
    void finish() {
        lock.lock();
        try {
            if (shown != null) {
                shown = null;
                statusOut.println();
                statusOut.flush();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Prints one encoded log line (or several) above the status, if one is shown. */
    public void printAbove(byte[] logLine) {
        lock.lock();
        try {
            if (shown != null) {
                statusOut.print("\r" + ERASE_TO_END);
                statusOut.flush();
            }
            logOut.write(logLine);
            logOut.flush();
            if (shown != null) {
                statusOut.print(shown + ERASE_TO_END);
                statusOut.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            lock.unlock();
        }
    }

    /** Convenience for tests and callers with text: {@link #printAbove(byte[])} in UTF-8. */
    void printAbove(String logLine) {
        printAbove(logLine.getBytes(StandardCharsets.UTF_8));
    }

    private static int columns() {
        try {
            String columns = System.getenv("COLUMNS");
            return columns == null || columns.isBlank() ? 80 : Integer.parseInt(columns.strip());
        } catch (NumberFormatException e) {
            return 80;
        }
    }
}
