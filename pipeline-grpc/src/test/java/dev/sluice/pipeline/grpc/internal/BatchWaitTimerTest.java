package dev.sluice.pipeline.grpc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The shared batch timer's lifecycle: its thread runs while some source holds the timer and through a grace after the
 * last release, and then stops. The tests use timers of their own, not the process's, which other tests' sources may
 * hold.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BatchWaitTimerTest {

    private static final Duration PROMPTLY = Duration.ofSeconds(10);
    private static final Duration SHORT_GRACE = Duration.ofMillis(20);

    @Test
    void theFirstUserStartsTheThreadAndItStopsOnceTheGraceAfterTheLastReleaseHasPassed() {
        // given: a timer nobody holds yet
        assertThat(BatchWaitTimer.endsWaitsOf(2 * BatchWaitTimer.TICK_NANOS)).isTrue();
        BatchWaitTimer.Shared shared = new BatchWaitTimer.Shared(SHORT_GRACE);

        // when
        BatchWaitTimer timer = shared.acquire();

        // then
        assertThat(timer.thread().isAlive()).isTrue();
        assertThat(timer.thread().getName()).isEqualTo(BatchWaitTimer.THREAD_NAME);
        assertThat(timer.thread().isDaemon()).isTrue();

        // when
        timer.release();

        // then
        await().atMost(PROMPTLY).until(() -> !timer.thread().isAlive());
    }

    @Test
    void concurrentUsersShareOneThreadUntilTheLastReleases() {
        // given
        BatchWaitTimer.Shared shared = new BatchWaitTimer.Shared(SHORT_GRACE);
        BatchWaitTimer first = shared.acquire();
        BatchWaitTimer second = shared.acquire();
        assertThat(second).isSameAs(first);

        // when: one of two users leaves
        first.release();

        // then: the thread runs on for the other
        await().during(Duration.ofMillis(200))
                .atMost(PROMPTLY)
                .until(() -> second.thread().isAlive());

        // when
        second.release();

        // then
        await().atMost(PROMPTLY).until(() -> !second.thread().isAlive());
    }

    @Test
    void aUserWithinTheGraceGetsTheSameTimerAndItsThread() {
        // given: a timer whose grace is longer than the test, left by its only user
        BatchWaitTimer.Shared shared = new BatchWaitTimer.Shared(Duration.ofMinutes(10));
        BatchWaitTimer before = shared.acquire();
        before.release();

        // when
        BatchWaitTimer after = shared.acquire();
        try {
            // then: the same timer, its thread still running
            assertThat(after).isSameAs(before);
            assertThat(after.isStopped()).isFalse();
            assertThat(after.thread().isAlive()).isTrue();
        } finally {
            after.release();
            shared.endGrace(); // leave no thread of this name running for other tests
        }
        await().atMost(PROMPTLY).until(() -> !after.thread().isAlive());
    }

    @Test
    void aTimerAcquiredAgainDuringItsGraceRunsOnPastIt() {
        // given: a timer with a short grace, left by its only user and acquired again at once (within the grace,
        // unless this thread stalls, in which case the first timer has stopped and a new one is handed out)
        BatchWaitTimer.Shared shared = new BatchWaitTimer.Shared(Duration.ofMillis(100));
        BatchWaitTimer first = shared.acquire();
        first.release();
        BatchWaitTimer again = shared.acquire();
        try {
            // then: while held, its thread runs on well past the grace
            await().during(Duration.ofMillis(300))
                    .atMost(PROMPTLY)
                    .until(() -> again.thread().isAlive() && !again.isStopped());
            assertThat(again == first || first.isStopped()).isTrue();
        } finally {
            again.release();
        }
        // and it stops once the grace after its last release has passed
        await().atMost(PROMPTLY).until(() -> !again.thread().isAlive());
    }

    @Test
    void aUserAfterTheThreadStoppedGetsANewTimerWithANewThread() {
        // given: a timer whose thread has stopped after its grace
        BatchWaitTimer.Shared shared = new BatchWaitTimer.Shared(SHORT_GRACE);
        BatchWaitTimer before = shared.acquire();
        before.release();
        await().atMost(PROMPTLY).until(() -> !before.thread().isAlive());

        // when
        BatchWaitTimer after = shared.acquire();
        try {
            // then
            assertThat(after).isNotSameAs(before);
            assertThat(after.thread().isAlive()).isTrue();
        } finally {
            after.release();
        }
        await().atMost(PROMPTLY).until(() -> !after.thread().isAlive());
    }

    @Test
    void releasingMoreOftenThanAcquiredIsRefused() {
        BatchWaitTimer timer = new BatchWaitTimer.Shared(SHORT_GRACE).acquire();
        timer.release();

        assertThatThrownBy(timer::release)
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("the gRPC batch timer was released more often than acquired");
    }

    @Test
    void manyUsersComingAndGoingAtOnceLeaveNoThreadBehind() throws Exception {
        // given: 8 threads that each acquire and release 500 times, all starting together
        int threads = 8;
        int rounds = 500;
        BatchWaitTimer.Shared shared = new BatchWaitTimer.Shared(SHORT_GRACE);
        Set<Thread> timerThreads = ConcurrentHashMap.newKeySet();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> users = new ArrayList<>();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        for (int t = 0; t < threads; t++) {
            users.add(Thread.ofPlatform().name("timer user " + t).start(() -> {
                try {
                    start.await();
                    for (int r = 0; r < rounds; r++) {
                        BatchWaitTimer timer = shared.acquire();
                        timerThreads.add(timer.thread());
                        // a timer handed out is never one that has stopped
                        assertThat(timer.isStopped()).isFalse();
                        timer.release();
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }

        // when
        start.countDown();
        for (Thread user : users) {
            user.join();
        }

        // then: every thread a timer started has ended
        assertThat(failures).isEmpty();
        await().atMost(PROMPTLY).until(() -> timerThreads.stream().noneMatch(Thread::isAlive));
    }
}
