package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.audit.AuditEvent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Where the events a store refuses for good are set aside, for a person to look at: an append-only file of JSON lines
 * beside the spill file, created at its first record. Each line holds when and why the event was set aside, the
 * store's SQLState, and the event as {@link AuditEvent#toJson()} wrote it:
 * <pre>
 * {"deadLetteredAt":"…Z","sqlState":"23514","reason":"writing 1 audit events in … failed: …","event":{…}}
 * </pre>
 * A line of the spill file that is not a whole event is kept the same way, with its text as {@code "line"} instead of
 * {@code "event"}. Nothing reads the file back: once the cause is fixed, {@code AuditEvent.fromJson} of a line's
 * {@code event} gives the event to write again.
 *
 * <p>Each record is one {@code write} followed by {@code force}, as for the spill file. Guarded by the spill file's
 * lock (one writer per spill file, so one per dead-letter file); thread-safe within the writer.
 */
public final class DeadLetterFile implements AutoCloseable {
    private final Path path;
    private final ReentrantLock lock = new ReentrantLock();
    private FileChannel out; // guarded by lock: opened at the first record
    private boolean closed; // guarded by lock

    DeadLetterFile(Path path) {
        this.path = path;
    }

    /**
     * The dead-letter file of a spill file: {@code audit-spill.jsonl} gives {@code audit-spill.dead-letters.jsonl},
     * any other name {@code <name>.dead-letters.jsonl}.
     */
    public static Path besides(Path spill) {
        String name = spill.getFileName().toString();
        String base = name.endsWith(".jsonl") ? name.substring(0, name.length() - ".jsonl".length()) : name;
        return spill.resolveSibling(base + ".dead-letters.jsonl");
    }

    public Path path() {
        return path;
    }

    /** Appends the event, with why the store refused it, and forces it to disk. */
    public void add(AuditEvent event, String reason, String sqlState) throws IOException {
        append(AuditJson.deadLetter(Instant.now(), reason, sqlState, event, null));
    }

    /** Appends a line of the spill file that is not a whole event, with why, and forces it to disk. */
    public void addLine(String line, String reason) throws IOException {
        append(AuditJson.deadLetter(Instant.now(), reason, null, null, line));
    }

    private void append(String record) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap((record + '\n').getBytes(StandardCharsets.UTF_8));
        lock.lock();
        // An interrupt would make the FileChannel close itself in the middle of the write: write with the flag down.
        boolean interrupted = Thread.interrupted();
        try {
            if (closed) {
                throw new IOException("dead-letter file " + path + " is closed");
            }
            if (out == null) {
                out = FileChannel.open(
                        path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            }
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
            out.force(false);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            if (out != null) {
                try {
                    out.close();
                } catch (IOException ignored) {
                    // every record was forced to disk when it was added
                }
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "DeadLetterFile[" + path + "]";
    }
}
