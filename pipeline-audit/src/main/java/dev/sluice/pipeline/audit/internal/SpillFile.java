package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.audit.AuditEvent;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An append-only file of audit events, one JSON object per line, where the writer puts what the store would not take,
 * and from which it replays them later.
 *
 * <h2>Durability and crashes</h2>
 * Each append is one {@code write} of whole lines followed by {@code force}, so what an append returned from survives a
 * crash of the process and of the machine. A kill in the middle of an append can leave the last line cut short: when
 * the file is opened again, such a tail gets its missing line break (so that the next line does not glue onto it), and
 * replay skips every line that is not a whole event, logging it. Replay never deletes anything before the store has
 * taken every event of it; replaying it again after a crash (the moved-aside {@code .replaying} file is picked up by
 * the next writer) writes events the store already holds, which the store ignores (one row per event ID).
 *
 * <h2>One writer per file</h2>
 * The file is guarded by an OS lock on a sibling {@code .lock} file, held while it is open, so a second writer (in this
 * process or another) on the same file is refused at once. The lock is on a separate file because on Linux closing
 * any channel of a file drops every lock the process holds on it, and replay reads the spill file through its own
 * stream.
 *
 * <p>Thread-safe: appends are serialised by a lock, which a replay holds only to move the content aside, never while
 * the store works.
 */
public final class SpillFile implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SpillFile.class);

    private final Path path;
    /** Where a replay moves the file's content while it feeds it to the store (see {@link #replay}). */
    private final Path aside;

    private final FileChannel lockChannel;
    private final FileLock fileLock;
    private final ReentrantLock lock = new ReentrantLock();
    private FileChannel out; // guarded by lock: replaced when a replay moves the content aside
    private volatile boolean hasData;
    private volatile boolean asideHasData;

    private SpillFile(Path path, FileChannel lockChannel, FileLock fileLock, FileChannel out) {
        this.path = path;
        this.aside = path.resolveSibling(path.getFileName() + ".replaying");
        this.lockChannel = lockChannel;
        this.fileLock = fileLock;
        this.out = out;
        this.asideHasData = Files.exists(aside);
    }

    /**
     * Opens (creating it and its directories if needed) and locks the spill file, and mends a tail cut by a crash.
     *
     * @throws IllegalStateException if another writer holds the file
     * @throws UncheckedIOException if the file cannot be created, opened or locked
     */
    public static SpillFile open(Path path) {
        Path file = path.toAbsolutePath();
        Path lockFile = file.resolveSibling(file.getFileName() + ".lock");
        FileChannel lockChannel = null;
        try {
            Path dir = file.getParent();
            if (dir != null) {
                Files.createDirectories(dir);
            }
            lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock fileLock;
            try {
                fileLock = lockChannel.tryLock();
            } catch (OverlappingFileLockException e) {
                fileLock = null;
            }
            if (fileLock == null) {
                throw new IllegalStateException(
                        "spillFile " + file + " is in use by another audit writer (its lock file " + lockFile
                                + " is held); give each writer its own spill file");
            }
            FileChannel out = FileChannel.open(
                    file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            SpillFile spill = new SpillFile(file, lockChannel, fileLock, out);
            spill.mendTail();
            return spill;
        } catch (IOException e) {
            closeQuietly(lockChannel);
            throw new UncheckedIOException("spillFile " + file + " cannot be opened and locked: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(lockChannel);
            throw e;
        }
    }

    private void mendTail() throws IOException {
        long size = out.size();
        hasData = size > 0;
        if (size == 0) {
            return;
        }
        ByteBuffer last = ByteBuffer.allocate(1);
        try (FileChannel in = FileChannel.open(path, StandardOpenOption.READ)) {
            in.read(last, size - 1);
        }
        if (last.get(0) != '\n') {
            log.warn(
                    "audit spill file {} ends in a line cut short (a crash while it was written); that line will be "
                            + "skipped when the file is replayed",
                    path);
            writeFully(ByteBuffer.wrap(new byte[] {'\n'}));
            out.force(false);
        }
    }

    /** The file's path. */
    public Path path() {
        return path;
    }

    /** Whether the file (or what a replay moved aside) holds lines not yet replayed. */
    public boolean hasData() {
        return hasData || asideHasData;
    }

    /** Appends the events, one line each, and forces them to disk. */
    public void append(List<AuditEvent> events) throws IOException {
        byte[] bytes = lines(events);
        lock.lock();
        try {
            appendLocked(bytes);
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@link #append}, unless the file is busy (a replay in progress) for longer than {@code waitMillis}.
     *
     * @return whether the events were appended
     */
    public boolean tryAppend(List<AuditEvent> events, long waitMillis) throws IOException, InterruptedException {
        byte[] bytes = lines(events);
        if (!lock.tryLock(waitMillis, TimeUnit.MILLISECONDS)) {
            return false;
        }
        try {
            appendLocked(bytes);
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void appendLocked(byte[] bytes) throws IOException {
        // An interrupt would make the FileChannel close itself in the middle of the write (it is an interruptible
        // channel), and every later append would fail: write with the flag down, and put it back after.
        boolean interrupted = Thread.interrupted();
        try {
            writeFully(ByteBuffer.wrap(bytes));
            out.force(false);
            hasData = true;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void writeFully(ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }

    private static byte[] lines(List<AuditEvent> events) {
        StringBuilder b = new StringBuilder(events.size() * 512);
        for (AuditEvent e : events) {
            b.append(e.toJson()).append('\n'); // JSON text holds no raw line break
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** What a replay did. */
    public record Replay(long events, long unreadableLines) {}

    /**
     * Hands the file's events to {@code store}, in order: the first event alone (a cheap probe of a store that may
     * still be down), then batches of at most {@code batchSize}. A line that is not a whole event is logged and
     * skipped.
     *
     * <p>The store is called without the file's lock, so appends go on meanwhile, however long the store takes: under
     * the lock, the file's content is moved aside (renamed to {@code <file>.replaying}) and a fresh file started;
     * then the moved-aside file is fed to the store; when the store has taken all of it, it is deleted. If
     * {@code store} throws, the replay stops, the moved-aside file stays (to be replayed whole later, before what
     * was appended since), and the exception propagates. Replaying events the store already holds is harmless (one
     * row per event ID). Called by one thread at a time (the writer's).
     */
    public Replay replay(int batchSize, Consumer<List<AuditEvent>> store) throws IOException {
        // What an earlier replay left aside (a store that failed, a crash), then what the file holds now.
        Replay leftover = asideHasData ? feedAside(batchSize, store) : new Replay(0, 0);
        Replay current = moveAside() ? feedAside(batchSize, store) : new Replay(0, 0);
        return new Replay(leftover.events() + current.events(), leftover.unreadableLines() + current.unreadableLines());
    }

    /** Under the lock: renames the file's content aside and starts a fresh file. Returns false if it was empty. */
    private boolean moveAside() throws IOException {
        lock.lock();
        boolean interrupted = Thread.interrupted(); // keep the channel open (see appendLocked)
        try {
            if (!hasData) {
                return false;
            }
            out.force(true);
            out.close();
            try {
                Files.move(path, aside, StandardCopyOption.ATOMIC_MOVE);
                asideHasData = true;
                hasData = false;
            } finally {
                // A fresh file after a move; the same file again if the move failed (its content stays to replay).
                out = FileChannel.open(
                        path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            }
            return true;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            lock.unlock();
        }
    }

    /** Feeds the moved-aside file to the store, then deletes it; if the store throws, the file stays. */
    private Replay feedAside(int batchSize, Consumer<List<AuditEvent>> store) throws IOException {
        Replay r = feed(batchSize, store);
        Files.delete(aside);
        asideHasData = false;
        return r;
    }

    /** Feeds the moved-aside file to the store, without the lock. */
    private Replay feed(int batchSize, Consumer<List<AuditEvent>> store) throws IOException {
        long events = 0;
        long unreadable = 0;
        long lineNumber = 0;
        List<AuditEvent> batch = new ArrayList<>(batchSize);
        int size = 1;
        // A decoder that replaces malformed UTF-8 (from a cut line) instead of failing the whole replay.
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(Files.newInputStream(aside), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    batch.add(AuditJson.fromJson(line));
                } catch (IllegalArgumentException e) {
                    unreadable++;
                    log.warn(
                            "audit spill file {}: line {} is not a whole audit event and is skipped ({}): {}",
                            aside,
                            lineNumber,
                            Text.oneLine(e.getMessage()),
                            Text.oneLine(Text.truncate(line, 200)));
                    continue;
                }
                if (batch.size() == size) {
                    store.accept(List.copyOf(batch));
                    events += batch.size();
                    batch.clear();
                    size = batchSize;
                }
            }
        }
        if (!batch.isEmpty()) {
            store.accept(List.copyOf(batch));
            events += batch.size();
        }
        return new Replay(events, unreadable);
    }

    /** Releases the lock and closes the file; what it holds stays for the next writer to replay. */
    @Override
    public void close() {
        lock.lock();
        try {
            closeQuietly(out);
            try {
                fileLock.release();
            } catch (IOException | RuntimeException e) {
                log.debug("releasing the lock of audit spill file {} failed", path, e);
            }
            closeQuietly(lockChannel);
        } finally {
            lock.unlock();
        }
    }

    private static void closeQuietly(FileChannel c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException e) {
            log.debug("closing {} failed", c, e);
        }
    }

    @Override
    public String toString() {
        return "SpillFile[" + path + "]";
    }
}
