package dev.sluice.pipeline.audit.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.pipeline.audit.AuditEvent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An append to the spill file that fails part-way (a full disk: some bytes written, then an error) leaves no part of
 * its line for the next append to glue onto: the events the caller counted as dropped are never replayed, and the
 * next append's events are.
 */
class SpillFileAppendFailureTest {

    @TempDir
    Path dir;

    @Test
    void anAppendThatFailsPartWayIsCutBackSoTheNextAppendsEventsReplayWhole() throws IOException {
        // given a spill file whose next write stops half-way with an error, as on a full disk
        Faulty faulty = new Faulty();
        try (SpillFile spill = SpillFile.open(dir.resolve("spill.jsonl"), faulty::open)) {
            faulty.failNextWrite = true;
            assertThatThrownBy(() -> spill.append(List.of(event("a"))))
                    .isInstanceOf(IOException.class)
                    .hasMessage("No space left on device");

            // when space is back and the next event is appended
            spill.append(List.of(event("b")));

            // then the replay finds b, whole, and nothing of a
            List<AuditEvent> replayed = new ArrayList<>();
            assertThat(replayInto(spill, replayed).unreadableLines()).isZero();
            assertThat(replayed).extracting(AuditEvent::correlationId).containsExactly("b");
        }
    }

    @Test
    void aPartOfALineThatCannotBeCutBackStaysALineOfItsOwn() throws IOException {
        // given a spill file whose next write stops half-way, and which cannot be truncated either
        Faulty faulty = new Faulty();
        faulty.failTruncate = true;
        try (SpillFile spill = SpillFile.open(dir.resolve("spill.jsonl"), faulty::open)) {
            faulty.failNextWrite = true;
            assertThatThrownBy(() -> spill.append(List.of(event("a")))).isInstanceOf(IOException.class);

            // when the next event is appended
            spill.append(List.of(event("b")));

            // then the replay sets the part of a aside as one line, and finds b whole
            List<AuditEvent> replayed = new ArrayList<>();
            assertThat(replayInto(spill, replayed).unreadableLines()).isEqualTo(1);
            assertThat(replayed).extracting(AuditEvent::correlationId).containsExactly("b");
        }
    }

    /** Replays the whole file into {@code store}, which takes every event. */
    private static SpillFile.Replay replayInto(SpillFile spill, List<AuditEvent> store) throws IOException {
        return spill.replay(10, events -> {
            store.addAll(events);
            return events.size();
        });
    }

    private static AuditEvent event(String correlationId) {
        Instant at = Instant.parse("2026-12-07T12:00:00Z");
        return new AuditEvent(
                UUID.randomUUID(),
                "test:Event",
                "method",
                correlationId,
                at,
                at.plusMillis(5),
                5,
                1,
                1.0,
                true,
                AuditEvent.COMPLETED,
                null,
                0,
                0,
                Map.of("padding", "x".repeat(200)));
    }

    /** Opens the spill file through a channel that can fail a write half-way, or a truncate. */
    private static final class Faulty {
        volatile boolean failNextWrite;
        volatile boolean failTruncate;

        FileChannel open(Path file) throws IOException {
            FileChannel real = FileChannel.open(
                    file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            return new FailingChannel(real, this);
        }
    }

    /** A channel that passes every call on, but writes half of a buffer and then fails when told to. */
    private static final class FailingChannel extends FileChannel {
        private final FileChannel real;
        private final Faulty faults;

        FailingChannel(FileChannel real, Faulty faults) {
            this.real = real;
            this.faults = faults;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (faults.failNextWrite) {
                faults.failNextWrite = false;
                ByteBuffer half = src.slice(src.position(), src.remaining() / 2);
                real.write(half);
                throw new IOException("No space left on device");
            }
            return real.write(src);
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            if (faults.failTruncate) {
                throw new IOException("Input/output error");
            }
            real.truncate(size);
            return this;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return real.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return real.read(dsts, offset, length);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            return real.write(srcs, offset, length);
        }

        @Override
        public long position() throws IOException {
            return real.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            real.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return real.size();
        }

        @Override
        public void force(boolean metaData) throws IOException {
            real.force(metaData);
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return real.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            return real.transferFrom(src, position, count);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return real.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            return real.write(src, position);
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            return real.map(mode, position, size);
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return real.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return real.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            real.close();
        }
    }
}
