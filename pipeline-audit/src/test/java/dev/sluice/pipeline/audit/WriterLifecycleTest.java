package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.pipeline.audit.internal.WriterState;
import dev.sluice.pipeline.audit.internal.WriterState.Stage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The audit writer's lifecycle ({@link WriterState}): the stages only move forward, one caller closes, and the sink
 * and spill file are released exactly once, by whichever comes last of {@code close()} returning and the writer's last
 * thread ending. A model test runs every order of the events of one writer's life; a race test runs the two that
 * decide the release at once, many times.
 */
@Timeout(60)
class WriterLifecycleTest {

    /** The events of one writer's life with a spill file (two threads): what close() and the threads do. */
    private enum Step {
        BEGIN_CLOSE,
        SEAL,
        CLOSE_RETURNED,
        DRAINING_THREAD_ENDED,
        REPLAYING_THREAD_ENDED
    }

    @Test
    void inEveryOrderOfALifeTheWriterIsReleasedOnceWhenClosedAndItsThreadsHaveEnded() {
        // given every order of a life's steps in which close() takes its own steps in its order
        List<List<Step>> orders = new ArrayList<>();
        permutations(new ArrayList<>(List.of(Step.values())), new ArrayList<>(), orders);
        orders.removeIf(o -> !(o.indexOf(Step.BEGIN_CLOSE) < o.indexOf(Step.SEAL)
                && o.indexOf(Step.SEAL) < o.indexOf(Step.CLOSE_RETURNED)));
        assertThat(orders).hasSize(20);

        for (List<Step> order : orders) {
            // when the steps happen in that order
            WriterState state = new WriterState(1, true);
            int releases = 0;
            int releasedAt = -1;
            Stage before = state.lifecycle().stage();
            for (int i = 0; i < order.size(); i++) {
                boolean release = switch (order.get(i)) {
                    case BEGIN_CLOSE -> {
                        assertThat(state.beginClose(System.nanoTime()))
                                .as("the first close begins")
                                .isTrue();
                        yield false;
                    }
                    case SEAL -> {
                        state.seal();
                        yield false;
                    }
                    case CLOSE_RETURNED -> state.closeReturned();
                    case DRAINING_THREAD_ENDED -> state.threadEnded(true);
                    case REPLAYING_THREAD_ENDED -> state.threadEnded(false);
                };
                if (release) {
                    releases++;
                    releasedAt = i;
                }
                Stage now = state.lifecycle().stage();
                assertThat(now.compareTo(before))
                        .as("the stage only moves forward, in %s", order)
                        .isNotNegative();
                before = now;
            }

            // then the writer was released once, at the last of close's return and the threads' ends
            assertThat(releases).as("releases in %s", order).isEqualTo(1);
            assertThat(releasedAt).as("released at the last step of %s", order).isEqualTo(order.size() - 1);
            assertThat(state.lifecycle())
                    .isEqualTo(new WriterState.Lifecycle(
                            Stage.CLOSED, state.lifecycle().closeDeadlineNanos(), 0, 0, true));
            assertThat(state.beginClose(System.nanoTime())).as("a second close").isFalse();
        }
    }

    @Test
    void theQueueIsDrainedUntilTheLastOfSeveralDrainingThreadsEnds() {
        // given a writer with three draining threads and a replaying one
        WriterState state = new WriterState(3, true);

        // when the replaying thread and two draining threads end, then the queue is still drained
        state.threadEnded(false);
        state.threadEnded(true);
        state.threadEnded(true);
        assertThat(state.hasDrainEnded()).isFalse();
        assertThat(state.lifecycle().threadsRunning()).isEqualTo(1);

        // when the last draining thread ends, then nothing more comes from the queue
        state.threadEnded(true);
        assertThat(state.hasDrainEnded()).isTrue();
        assertThat(state.lifecycle().threadsRunning()).isZero();
    }

    @Test
    void asManyStoreCallsRunAtOnceAsThereAreDrainingThreads() throws InterruptedException {
        // given a writer with two draining threads, two of whose turns at the store are under way
        WriterState state = new WriterState(2, true);
        state.takeTurn();
        state.takeTurn();

        // when a third thread asks for a turn, then it waits until one of them ends
        AtomicInteger turns = new AtomicInteger();
        Thread third = Thread.ofPlatform().start(() -> {
            try {
                state.takeTurn();
                turns.incrementAndGet();
                state.endTurn();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> third.getState() == Thread.State.WAITING);
        assertThat(turns).hasValue(0);
        state.endTurn();
        third.join(Duration.ofSeconds(10));
        assertThat(turns).hasValue(1);
        state.endTurn();
    }

    @Test
    void aWriterWithoutADrainingThreadIsRefused() {
        assertThatThrownBy(() -> new WriterState(0, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("drainingThreads");
    }

    @Test
    void aThreadThatEndsTwiceIsAnError() {
        WriterState state = new WriterState(1, false);
        state.threadEnded(true);

        assertThatThrownBy(() -> state.threadEnded(true))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("every thread of the writer has ended already");
    }

    @Test
    void closeReturningAndTheLastThreadEndingAtOnceReleaseTheWriterOnce() throws Exception {
        // given many writers whose close returns while their last thread ends, on two threads started together
        for (int round = 0; round < 500; round++) {
            WriterState state = new WriterState(1, false);
            state.beginClose(System.nanoTime());
            state.seal();
            CountDownLatch go = new CountDownLatch(1);
            AtomicInteger releases = new AtomicInteger();
            Thread closer = Thread.ofPlatform().start(() -> {
                awaitQuietly(go);
                if (state.closeReturned()) {
                    releases.incrementAndGet();
                }
            });
            Thread drainer = Thread.ofPlatform().start(() -> {
                awaitQuietly(go);
                if (state.threadEnded(true)) {
                    releases.incrementAndGet();
                }
            });

            // when they race
            go.countDown();
            assertThat(closer.join(Duration.ofSeconds(10))).isTrue();
            assertThat(drainer.join(Duration.ofSeconds(10))).isTrue();

            // then exactly one of them released the writer
            assertThat(releases.get()).as("releases in round %d", round).isEqualTo(1);
            assertThat(state.lifecycle().released()).isTrue();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void permutations(List<Step> left, List<Step> prefix, List<List<Step>> out) {
        if (left.isEmpty()) {
            out.add(List.copyOf(prefix));
            return;
        }
        for (int i = 0; i < left.size(); i++) {
            Step s = left.remove(i);
            prefix.add(s);
            permutations(left, prefix, out);
            prefix.remove(prefix.size() - 1);
            left.add(i, s);
        }
    }
}
