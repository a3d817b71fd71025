package dev.sluice.pipeline.grpc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The shared deadline timer's lifecycle: one executor while some run holds it, shut down by the last release. Each
 * test assumes that no run outside it holds the timer (test classes of this module run one at a time).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DeadlineTimerTest {

    @Test
    void concurrentUsersShareOneTimerUntilTheLastReleases() {
        // given two users of one shared timer (not the process's, which other tests' served runs may hold)
        DeadlineTimer.Shared shared = new DeadlineTimer.Shared();
        DeadlineTimer first = shared.acquire();
        DeadlineTimer second = shared.acquire();
        assertThat(second).isSameAs(first);

        // when one leaves, the timer runs on for the other; when the other leaves, it is shut down
        first.release();
        assertThat(first.isShutDown()).isFalse();
        second.release();
        assertThat(first.isShutDown()).isTrue();

        // and the next user gets a new one
        DeadlineTimer next = shared.acquire();
        assertThat(next).isNotSameAs(first);
        next.release();
    }

    @Test
    void runsWhatIsScheduledOnAVirtualThreadOfItsName() throws Exception {
        DeadlineTimer timer = DeadlineTimer.acquire();
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
        DeadlineTimer timer = new DeadlineTimer.Shared().acquire();
        timer.release();
        assertThatThrownBy(timer::release)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("released more often than acquired");
    }
}
