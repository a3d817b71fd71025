package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.pipeline.audit.internal.SpillFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spill file under the conditions that break a naive one: an interrupted thread, a slow store, a store that takes
 * part of a replay, a line that is not an event.
 */
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

    private static SpillFile.Store storeIn(List<AuditEvent> store) {
        return batch -> {
            store.addAll(batch);
            return batch.size();
        };
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
            spill.replay(10, storeIn(replayed));
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
                        return batch.size();
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
            spill.replay(10, storeIn(later));
            assertThat(later).extracting(AuditEvent::methodName).hasSize(2);
            assertThat(spill.hasData()).isFalse();
        }
    }

    @Test
    void whatAReplayLeftAsideIsReplayedByTheNextWriter() throws Exception {
        Path file = dir.resolve("spill.jsonl");
        try (SpillFile spill = SpillFile.open(file)) {
            spill.append(events("aside", 4));
            // the store takes nothing: the replay stops, and what it moved aside stays
            assertThat(spill.replay(10, batch -> 0).complete()).isFalse();
            spill.append(events("later", 1));
        }
        try (SpillFile next = SpillFile.open(file)) {
            assertThat(next.hasData()).isTrue();
            List<AuditEvent> replayed = new ArrayList<>();
            next.replay(10, storeIn(replayed));
            assertThat(replayed).hasSize(5);
            assertThat(next.hasData()).isFalse();
        }
    }

    @Test
    void aReplayThatStopsGoesOnFromTheFirstEventNotTakenNotFromTheTop() throws Exception {
        try (SpillFile spill = SpillFile.open(dir.resolve("spill.jsonl"))) {
            // given ten spilled events, and a store that takes the probe and then only two of the next batch
            List<AuditEvent> events = events("resume", 10);
            spill.append(events);
            List<AuditEvent> first = new ArrayList<>();
            SpillFile.Replay stopped = spill.replay(4, batch -> {
                int take = first.isEmpty() ? batch.size() : Math.min(2, batch.size());
                first.addAll(batch.subList(0, take));
                return take;
            });
            assertThat(stopped.complete()).isFalse();
            assertThat(stopped.events()).isEqualTo(3);
            spill.append(events("later", 1));

            // when it is replayed again
            List<AuditEvent> second = new ArrayList<>();
            SpillFile.Replay rest = spill.replay(4, storeIn(second));

            // then it starts at the first event the store did not take, and ends with what came later
            assertThat(first).containsExactlyElementsOf(events.subList(0, 3));
            assertThat(second.subList(0, 7)).containsExactlyElementsOf(events.subList(3, 10));
            assertThat(second).hasSize(8);
            assertThat(rest.complete()).isTrue();
            assertThat(spill.hasData()).isFalse();
        }
    }

    @Test
    void aLineThatIsNotAnEventIsSetAsideInTheDeadLetterFileOnce() throws Exception {
        // given a spill file with a line this version does not take as an event, between two events
        Path file = dir.resolve("audit-spill.jsonl");
        AuditEvent before = Events.finished("before", 1);
        AuditEvent after = Events.finished("after", 2);
        String notAnEvent = before.toJson().replace("\"before-1\"", "\"" + "é".repeat(300) + "\"");
        Files.writeString(file, before.toJson() + "\n" + notAnEvent + "\n" + after.toJson() + "\n");

        try (SpillFile spill = SpillFile.open(file)) {
            // when it is replayed by a store that fails once past the line, then takes everything
            List<AuditEvent> stored = new ArrayList<>();
            int[] calls = {0};
            SpillFile.Replay stopped = spill.replay(10, batch -> {
                if (calls[0]++ == 1) {
                    return 0;
                }
                stored.addAll(batch);
                return batch.size();
            });
            SpillFile.Replay rest = spill.replay(10, storeIn(stored));

            // then the events are stored, and the line is in the dead-letter file once, whole, with the reason
            assertThat(stopped.complete()).isFalse();
            assertThat(rest.complete()).isTrue();
            assertThat(stored).containsExactly(before, after);
            assertThat(spill.deadLetters().path()).isEqualTo(dir.resolve("audit-spill.dead-letters.jsonl"));
            List<String> deadLetters = Files.readAllLines(spill.deadLetters().path());
            assertThat(deadLetters).hasSize(1);
            JsonNode record = new ObjectMapper().readTree(deadLetters.get(0));
            assertThat(record.get("line").asText()).isEqualTo(notAnEvent);
            assertThat(record.get("reason").asText()).contains("correlationId must be at most 512 bytes");
        }
    }
}
