package dev.sluice.pipeline.grpc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The shared deadline timer's lifecycle: one executor while some run holds it, kept through a grace after the last
 * release, then shut down. The lifecycle tests use timers of their own, not the process's, which other tests' served
 * runs may hold.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DeadlineTimerTest {

    @Test
    void usersShareOneTimerAndAnAcquireWithinTheGraceKeepsIt() {
        // given two users of one timer, with a grace longer than the test
        DeadlineTimer.Shared shared = new DeadlineTimer.Shared(Duration.ofMinutes(10));
        DeadlineTimer first = shared.acquire();
        DeadlineTimer second = shared.acquire();
        assertThat(second).isSameAs(first);

        // when both leave
        first.release();
        second.release();

        // then the timer runs on through its grace, and the next user gets it back
        assertThat(first.isShutDown()).isFalse();
        DeadlineTimer third = shared.acquire();
        assertThat(third).isSameAs(first);
        third.release();
    }

    @Test
    void aTimerWithoutUsersShutsDownAfterItsGraceAndTheNextAcquireGetsANewOne() {
        // given a timer whose only user leaves
        DeadlineTimer.Shared shared = new DeadlineTimer.Shared(Duration.ofMillis(20));
        DeadlineTimer first = shared.acquire();
        first.release();

        // then it shuts down once its grace has passed (its thread ends), and the next user gets a new one
        await().atMost(Duration.ofSeconds(10)).until(first::isShutDown);
        DeadlineTimer next = shared.acquire();
        assertThat(next).isNotSameAs(first);
        assertThat(next.isShutDown()).isFalse();
        next.release();
    }

    @Test
    void aTimerHeldAgainAfterItsLastReleaseDoesNotShutDown() {
        // given a timer with a short grace, left by its only user and acquired again at once (before its grace ends,
        // unless this thread stalls, in which case the first timer is gone and a new one is handed out)
        DeadlineTimer.Shared shared = new DeadlineTimer.Shared(Duration.ofMillis(20));
        DeadlineTimer first = shared.acquire();
        first.release();
        DeadlineTimer again = shared.acquire();

        // then, while held, it stays up well past the grace: a task scheduled past it runs
        CompletableFuture<Boolean> ran = new CompletableFuture<>();
        again.scheduler().schedule(() -> ran.complete(true), 200, TimeUnit.MILLISECONDS);
        assertThat(ran).succeedsWithin(Duration.ofSeconds(10));
        assertThat(again.isShutDown()).isFalse();
        assertThat(again == first || first.isShutDown()).isTrue();
        again.release();
    }

    @Test
    void runsWhatIsScheduledOnAVirtualThreadOfItsName() throws Exception {
        DeadlineTimer timer = new DeadlineTimer.Shared(Duration.ofMillis(20)).acquire();
        try {
            CompletableFuture<Thread> ranOn = new CompletableFuture<>();
            timer.scheduler().schedule(() -> ranOn.complete(Thread.currentThread()), 10, TimeUnit.MILLISECONDS);
            Thread thread = ranOn.get(10, TimeUnit.SECONDS);
            assertThat(thread.isVirtual()).isTrue();
            assertThat(thread.getName()).isEqualTo(DeadlineTimer.THREAD_NAME);
        } finally {
            timer.release();
        }
    }

    @Test
    void releasingMoreOftenThanAcquiredFails() {
        DeadlineTimer timer = new DeadlineTimer.Shared(Duration.ofMillis(20)).acquire();
        timer.release();
        assertThatThrownBy(timer::release)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("released more often than acquired");
    }
}
