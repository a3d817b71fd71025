package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.pipeline.audit.internal.SpillFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The spill file under the two conditions that used to break it: an interrupted thread, and a slow store. */
@Timeout(30)
class SpillFileTest {

    @TempDir
    Path dir;

    private static List<AuditEvent> events(String prefix, int n) {
        List<AuditEvent> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(Events.finished(prefix, i));
        }
        return out;
    }

    @Test
    void anAppendOnAnInterruptedThreadStillWritesAndLeavesTheFileUsable() throws Exception {
        try (SpillFile spill = SpillFile.open(dir.resolve("spill.jsonl"))) {
            // when: an interrupted thread appends (the writer's thread after close() interrupted it)
            Thread.currentThread().interrupt();
            spill.append(events("interrupted", 3));
            // then: the interrupt is kept for the thread, and the file goes on taking appends
            assertThat(Thread.interrupted()).isTrue();
            spill.append(events("after", 2));
            List<AuditEvent> replayed = new ArrayList<>();
            spill.replay(10, replayed::addAll);
            assertThat(replayed).hasSize(5);
        }
    }

    @Test
    void aReplayDoesNotHoldUpAppendsWhileTheStoreIsSlow() throws Exception {
        try (SpillFile spill = SpillFile.open(dir.resolve("spill.jsonl"))) {
            spill.append(events("old", 5));
            CountDownLatch storeEntered = new CountDownLatch(1);
            CountDownLatch releaseStore = new CountDownLatch(1);
            List<AuditEvent> stored = new CopyOnWriteArrayList<>();
            Thread replaying = Thread.ofPlatform().start(() -> {
                try {
                    spill.replay(10, batch -> {
                        storeEntered.countDown();
                        try {
                            releaseStore.await(); // a store that hangs
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        stored.addAll(batch);
                    });
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            storeEntered.await();
            // when: events come to be spilled while the store hangs in the replay
            boolean appended = spill.tryAppend(events("new", 2), 100);
            // then: they are appended at once, not refused for want of the file
            assertThat(appended).isTrue();
            releaseStore.countDown();
            replaying.join(TimeUnit.SECONDS.toMillis(10));
            assertThat(stored).hasSize(5);
            assertThat(spill.hasData()).isTrue();
            List<AuditEvent> later = new ArrayList<>();
            spill.replay(10, later::addAll);
            assertThat(later).extracting(AuditEvent::methodName).hasSize(2);
            assertThat(spill.hasData()).isFalse();
        }
    }

    @Test
    void whatAReplayLeftAsideIsReplayedByTheNextWriter() throws Exception {
        Path file = dir.resolve("spill.jsonl");
        try (SpillFile spill = SpillFile.open(file)) {
            spill.append(events("aside", 4));
            try {
                spill.replay(10, batch -> {
                    throw new IllegalStateException("the store is down");
                });
            } catch (IllegalStateException expected) {
                // the replay stops; what it moved aside stays
            }
            spill.append(events("later", 1));
        }
        try (SpillFile next = SpillFile.open(file)) {
            assertThat(next.hasData()).isTrue();
            List<AuditEvent> replayed = new ArrayList<>();
            next.replay(10, replayed::addAll);
            assertThat(replayed).hasSize(5);
            assertThat(next.hasData()).isFalse();
        }
    }
}
