package dev.sluice.pipeline.audit.internal;

import dev.sluice.pipeline.audit.AuditEvent;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
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
 * replay sets every line that is not a whole event aside in the dead-letter file ({@link DeadLetterFile}), logging it.
 * Replay never deletes anything before the store has taken every event of it; replaying it again after a crash (the
 * moved-aside {@code .replaying} file is picked up by the next writer, from its start) writes events the store already
 * holds, which the store ignores (one row per event ID), and may set aside a second time an event it had set aside.
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
    /** Opens {@link #out}: the file, for appending. */
    private final Opener opener;
    /**
     * Whether the file ends in part of a line that a failed append could not take back: the next append starts with a
     * line break, so that the part stays a line of its own (set aside by the replay) and no event glues onto it.
     * Guarded by lock.
     */
    private boolean tailCut;

    private volatile boolean hasData;
    private volatile boolean asideHasData;
    /** Where the next replay of the moved-aside file starts: past every line the store has taken. Replay only. */
    private long asideOffset;

    private final DeadLetterFile deadLetters;

    /** How the spill file is opened for appending; a test's may fail on purpose. */
    @FunctionalInterface
    interface Opener {
        FileChannel openForAppend(Path file) throws IOException;
    }

    private static final Opener APPENDING = file ->
            FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);

    private SpillFile(Path path, FileChannel lockChannel, FileLock fileLock, FileChannel out, Opener opener) {
        this.path = path;
        this.opener = opener;
        this.aside = path.resolveSibling(path.getFileName() + ".replaying");
        this.lockChannel = lockChannel;
        this.fileLock = fileLock;
        this.out = out;
        this.asideHasData = Files.exists(aside);
        this.deadLetters = new DeadLetterFile(DeadLetterFile.besides(path));
    }

    /**
     * Opens (creating it and its directories if needed) and locks the spill file, and mends a tail cut by a crash.
     *
     * @throws IllegalStateException if another writer holds the file
     * @throws UncheckedIOException if the file cannot be created, opened or locked
     */
    public static SpillFile open(Path path) {
        return open(path, APPENDING);
    }

    static SpillFile open(Path path, Opener opener) {
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
            FileChannel out = opener.openForAppend(file);
            SpillFile spill = new SpillFile(file, lockChannel, fileLock, out, opener);
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

    /**
     * Appends whole lines, or nothing: an append that fails (a full disk, a failed force) is cut back to where it
     * began, so that its events, which the caller counts as dropped, are neither replayed later nor glued to the next
     * line. If even that fails, {@link #tailCut} makes the next append start on a line of its own.
     */
    private void appendLocked(byte[] bytes) throws IOException {
        // An interrupt would make the FileChannel close itself in the middle of the write (it is an interruptible
        // channel), and every later append would fail: write with the flag down, and put it back after.
        boolean interrupted = Thread.interrupted();
        long start = -1;
        try {
            start = out.size();
            if (tailCut) {
                writeFully(ByteBuffer.wrap(new byte[] {'\n'}));
            }
            writeFully(ByteBuffer.wrap(bytes));
            out.force(false);
            tailCut = false;
            hasData = true;
        } catch (IOException | RuntimeException e) {
            if (start >= 0) {
                cutBack(start, e);
            }
            throw e;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void cutBack(long start, Exception failure) {
        try {
            if (out.size() > start) {
                out.truncate(start);
                out.force(false);
            }
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
            tailCut = true;
            hasData = true; // the part left behind is replayed, and set aside as not a whole event
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

    /** What a replay did: events the store took, lines set aside as not whole events, and whether it got to the end. */
    public record Replay(long events, long unreadableLines, boolean complete) {
        Replay plus(Replay later) {
            return new Replay(
                    events + later.events, unreadableLines + later.unreadableLines, complete && later.complete);
        }
    }

    /** Takes a batch of replayed events into the store. */
    @FunctionalInterface
    public interface Store {
        /**
         * Takes {@code events} into the store: writes them, or sets aside those it refuses.
         *
         * @return how many of them, from the first, it took; fewer than all stops the replay there
         */
        int take(List<AuditEvent> events);
    }

    /**
     * Hands the file's events to {@code store}, in order: the first event alone (a cheap probe of a store that may
     * still be down), then batches of at most {@code batchSize}. A line that is not a whole event (cut by a crash, or
     * refused by the rules of this version) is logged and set aside in the {@link #deadLetters() dead-letter file}.
     *
     * <p>The store is called without the file's lock, so appends go on meanwhile, however long the store takes: under
     * the lock, the file's content is moved aside (renamed to {@code <file>.replaying}) and a fresh file started; then
     * the moved-aside file is fed to the store; when the store has taken all of it, it is deleted. If the store takes
     * less than a whole batch, the replay stops there: the moved-aside file stays, and the next replay goes on from
     * the first event not taken (a next writer on the file, from its start), before what was appended since. Replaying
     * events the store already holds is harmless (one row per event ID). Called by one thread at a time (the
     * writer's replaying thread).
     *
     * @throws IOException if the file cannot be read, or a line that is not an event cannot be set aside; the replay
     *     stops before that line
     */
    public Replay replay(int batchSize, Store store) throws IOException {
        // What an earlier replay left aside (a store that failed, a crash), then what the file holds now.
        Replay done = new Replay(0, 0, true);
        if (asideHasData) {
            done = feedAside(batchSize, store);
            if (!done.complete()) {
                return done;
            }
        }
        if (moveAside()) {
            done = done.plus(feedAside(batchSize, store));
        }
        return done;
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
                asideOffset = 0;
                hasData = false;
            } finally {
                // A fresh file after a move; the same file again if the move failed (its content stays to replay).
                out = opener.openForAppend(path);
            }
            return true;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            lock.unlock();
        }
    }

    /** Feeds the moved-aside file to the store; deletes it once the store has taken all of it. */
    private Replay feedAside(int batchSize, Store store) throws IOException {
        Replay r = feed(batchSize, store);
        if (r.complete()) {
            Files.delete(aside);
            asideHasData = false;
            asideOffset = 0;
        }
        return r;
    }

    /**
     * Feeds the moved-aside file to the store from {@link #asideOffset}, without the lock, moving the offset past
     * each line once the store has taken its event (or it has been set aside).
     */
    private Replay feed(int batchSize, Store store) throws IOException {
        long events = 0;
        long unreadable = 0;
        Batch batch = new Batch(batchSize);
        int size = 1;
        try (FileChannel in = FileChannel.open(aside, StandardOpenOption.READ)) {
            in.position(asideOffset);
            LineReader lines = new LineReader(Channels.newInputStream(in), asideOffset);
            for (String line; (line = lines.next()) != null; ) {
                if (line.isBlank()) {
                    continue;
                }
                AuditEvent event;
                try {
                    event = AuditJson.fromJson(line);
                } catch (IllegalArgumentException e) {
                    // What came before the line is taken first, so that the offset can pass the line at once.
                    int taken = batch.takeInto(store);
                    events += taken;
                    if (!batch.isEmpty()) {
                        return new Replay(events, unreadable, false);
                    }
                    setAsideUnreadable(line, lines.lineStart(), e);
                    unreadable++;
                    asideOffset = lines.offset();
                    continue;
                }
                batch.add(event, lines.offset());
                if (batch.size() == size) {
                    events += batch.takeInto(store);
                    if (!batch.isEmpty()) {
                        return new Replay(events, unreadable, false);
                    }
                    size = batchSize;
                }
            }
        }
        events += batch.takeInto(store);
        return new Replay(events, unreadable, batch.isEmpty());
    }

    private void setAsideUnreadable(String line, long at, IllegalArgumentException why) throws IOException {
        String reason = "line at byte " + at + " of audit spill file " + aside + " is not a whole audit event: "
                + Text.oneLine(why.getMessage());
        deadLetters.addLine(line, reason);
        log.warn("{}; it is set aside in {}: {}", reason, deadLetters.path(), Text.oneLine(Text.truncate(line, 200)));
    }

    /** Events read for the store, each with the offset just past its line. */
    private final class Batch {
        private final List<AuditEvent> events;
        private final long[] ends;

        Batch(int capacity) {
            events = new ArrayList<>(capacity);
            ends = new long[capacity];
        }

        void add(AuditEvent event, long end) {
            ends[events.size()] = end;
            events.add(event);
        }

        int size() {
            return events.size();
        }

        boolean isEmpty() {
            return events.isEmpty();
        }

        /**
         * Hands the events to the store and moves the replay's offset past those it took, which leave the batch;
         * returns how many it took.
         */
        int takeInto(Store store) {
            if (events.isEmpty()) {
                return 0;
            }
            int taken = Math.max(0, Math.min(events.size(), store.take(List.copyOf(events))));
            if (taken > 0) {
                asideOffset = ends[taken - 1];
                events.subList(0, taken).clear();
                System.arraycopy(ends, taken, ends, 0, events.size());
            }
            return taken;
        }
    }

    /**
     * Reads lines of UTF-8 (malformed bytes, as a cut line may hold, become U+FFFD) and counts the bytes read, so that
     * a replay can note where each line ends.
     */
    private static final class LineReader {
        private final InputStream in;
        private final byte[] buffer = new byte[64 * 1024];
        private int position;
        private int limit;
        private long offset;
        private long lineStart;
        private byte[] line = new byte[1024];

        LineReader(InputStream in, long offset) {
            this.in = in;
            this.offset = offset;
        }

        /** The next line without its line break, or null at the end. */
        String next() throws IOException {
            lineStart = offset;
            int length = 0;
            for (; ; ) {
                if (position == limit) {
                    limit = in.read(buffer);
                    position = 0;
                    if (limit <= 0) {
                        limit = 0;
                        return length == 0 ? null : new String(line, 0, length, StandardCharsets.UTF_8);
                    }
                }
                byte b = buffer[position++];
                offset++;
                if (b == '\n') {
                    return new String(line, 0, length, StandardCharsets.UTF_8);
                }
                if (length == line.length) {
                    line = Arrays.copyOf(line, line.length * 2);
                }
                line[length++] = b;
            }
        }

        /** The offset just past the last line read. */
        long offset() {
            return offset;
        }

        /** The offset at which the last line read starts. */
        long lineStart() {
            return lineStart;
        }
    }

    /** The file where a replay sets aside what the store refuses for good. */
    public DeadLetterFile deadLetters() {
        return deadLetters;
    }

    /** Releases the lock and closes the file; what it holds stays for the next writer to replay. */
    @Override
    public void close() {
        lock.lock();
        try {
            deadLetters.close();
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
