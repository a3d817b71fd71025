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
 * The shared batch timer's lifecycle: its thread runs while some source holds the timer, and only then. Each test
 * assumes that no source outside it holds the timer (test classes of this module run one at a time, and every run
 * of a source has ended when its test returns).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BatchWaitTimerTest {

    private static final Duration PROMPTLY = Duration.ofSeconds(10);

    @Test
    void theFirstUserStartsTheThreadAndTheLastOneStopsIt() {
        // given: the class is initialised, and no source holds the timer
        assertThat(BatchWaitTimer.endsWaitsOf(2 * BatchWaitTimer.TICK_NANOS)).isTrue();

        // when
        BatchWaitTimer timer = BatchWaitTimer.acquire();

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
        BatchWaitTimer first = BatchWaitTimer.acquire();
        BatchWaitTimer second = BatchWaitTimer.acquire();
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
    void aUserAfterTheLastReleaseGetsANewTimerWithANewThread() {
        // given
        BatchWaitTimer before = BatchWaitTimer.acquire();
        before.release();

        // when
        BatchWaitTimer after = BatchWaitTimer.acquire();
        try {
            // then
            assertThat(after).isNotSameAs(before);
            assertThat(after.thread().isAlive()).isTrue();
            await().atMost(PROMPTLY).until(() -> !before.thread().isAlive());
        } finally {
            after.release();
        }
        await().atMost(PROMPTLY).until(() -> !after.thread().isAlive());
    }

    @Test
    void releasingMoreOftenThanAcquiredIsRefused() {
        BatchWaitTimer timer = BatchWaitTimer.acquire();
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
        Set<Thread> timerThreads = ConcurrentHashMap.newKeySet();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> users = new ArrayList<>();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        for (int t = 0; t < threads; t++) {
            users.add(Thread.ofPlatform().name("timer user " + t).start(() -> {
                try {
                    start.await();
                    for (int r = 0; r < rounds; r++) {
                        BatchWaitTimer timer = BatchWaitTimer.acquire();
                        timerThreads.add(timer.thread());
                        // a timer handed out is never one whose last user has left
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
