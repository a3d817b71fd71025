package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.MDC;

@Timeout(30)
class ScopeTest {

    @Test
    void joinReturnsWhenEveryForkCompletedAndResultsAreThere() throws Exception {
        try (Scope scope = Scope.open()) {
            Fork<Integer> a = scope.fork("a", () -> 1);
            Fork<String> b = scope.fork("b", () -> "two");
            scope.join();
            assertThat(a.result()).isEqualTo(1);
            assertThat(b.result()).isEqualTo("two");
            assertThat(a.isDone()).isTrue();
            assertThat(a.failure()).isEmpty();
        }
    }

    @Test
    void aFailingForkCancelsSiblingsBlockedInAChannelAndInSleep() throws Exception {
        // given
        Channel<Integer> never = Channel.bounded(1);
        List<Class<?>> siblingsSaw = new CopyOnWriteArrayList<>();
        IllegalStateException boom = new IllegalStateException("boom");
        Scope scope = Scope.open();
        CountDownLatch siblingsWaiting = new CountDownLatch(2);
        scope.fork("receiver", () -> {
            try {
                siblingsWaiting.countDown();
                return never.receive();
            } catch (InterruptedException e) {
                siblingsSaw.add(e.getClass());
                throw e;
            }
        });
        scope.fork("sleeper", () -> {
            try {
                siblingsWaiting.countDown();
                Thread.sleep(Duration.ofMinutes(5));
                return null;
            } catch (InterruptedException e) {
                siblingsSaw.add(e.getClass());
                throw e;
            }
        });
        siblingsWaiting.await();
        // when
        scope.fork("failer", () -> {
            throw boom;
        });
        // then
        assertThatThrownBy(scope::join).isInstanceOf(ExecutionException.class).hasCause(boom);
        assertThat(siblingsSaw).containsExactlyInAnyOrder(InterruptedException.class, InterruptedException.class);
        assertThat(scope.activeCount()).isZero();
        assertThat(scope.isCancelled()).isTrue();
        scope.close();
    }

    @Test
    void laterFailuresAreSuppressedOnTheFirstButEchoesOfTheCancellationAreNot() throws Exception {
        RuntimeException first = new RuntimeException("first");
        RuntimeException second = new RuntimeException("second");
        CountDownLatch othersSleeping = new CountDownLatch(2);
        try (Scope scope = Scope.open()) {
            scope.fork("second", () -> {
                // Throws a genuine failure of its own once interrupted by the cancellation.
                try {
                    othersSleeping.countDown();
                    Thread.sleep(Duration.ofMinutes(1));
                } catch (InterruptedException e) {
                    throw second;
                }
                return null;
            });
            scope.fork("echo", () -> {
                othersSleeping.countDown();
                Thread.sleep(Duration.ofMinutes(1)); // its InterruptedException only echoes the cancellation
                return null;
            });
            othersSleeping.await();
            scope.fork("first", () -> {
                throw first;
            });
            assertThatThrownBy(scope::join)
                    .isInstanceOf(ExecutionException.class)
                    .cause()
                    .isSameAs(first);
        }
        assertThat(first.getSuppressed()).containsExactly(second);
    }

    @Test
    void cancelFromAnotherThreadInterruptsForksAndJoinThrowsCancellation() throws Exception {
        try (Scope scope = Scope.open()) {
            CountDownLatch started = new CountDownLatch(1);
            scope.fork(() -> {
                started.countDown();
                Thread.sleep(Duration.ofMinutes(5));
                return null;
            });
            started.await();
            Thread.ofVirtual().start(scope::cancel);
            assertThatThrownBy(scope::join)
                    .isInstanceOf(CancellationException.class)
                    .hasMessageContaining("cancelled");
            assertThat(scope.activeCount()).isZero();
        }
    }

    @Test
    void theDeadlineCancelsForksAndJoinThrowsTimeout() throws Exception {
        long start = System.nanoTime();
        try (Scope scope = Scope.builder().timeout(Duration.ofMillis(100)).open()) {
            scope.fork(() -> {
                Thread.sleep(Duration.ofMinutes(5));
                return null;
            });
            assertThatThrownBy(scope::join).isInstanceOf(TimeoutException.class).hasMessageContaining("deadline");
            assertThat(scope.deadline()).isPresent();
        }
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(100));
    }

    @Test
    void theDeadlineCancelsForksAtItsTimeEvenIfNobodyJoins() throws Exception {
        // given a scope with a deadline and a fork that would run for minutes, and nobody in join()
        long opened = System.nanoTime();
        AtomicLong interruptedAfterNanos = new AtomicLong(-1);
        Scope scope = Scope.builder().timeout(Duration.ofMillis(200)).open();
        Fork<Object> sleeper = scope.fork("sleeper", () -> {
            try {
                Thread.sleep(Duration.ofMinutes(5));
                return null;
            } catch (InterruptedException e) {
                interruptedAfterNanos.set(System.nanoTime() - opened);
                throw e;
            }
        });
        // when the deadline passes, then the fork is cancelled then, without a join
        await().atMost(Duration.ofSeconds(10)).until(sleeper::isDone);
        assertThat(sleeper.failure()).containsInstanceOf(InterruptedException.class);
        assertThat(Duration.ofNanos(interruptedAfterNanos.get())).isGreaterThanOrEqualTo(Duration.ofMillis(200));
        assertThat(scope.isCancelled()).isTrue();
        // and a join afterwards reports the deadline
        assertThatThrownBy(scope::join).isInstanceOf(TimeoutException.class).hasMessageContaining("deadline");
        scope.close();
    }

    @Test
    void forksThatCompletedBeforeTheDeadlineAreNotAffectedByIt() throws Exception {
        // given forks that all complete long before the deadline
        try (Scope scope = Scope.builder().timeout(Duration.ofMillis(100)).open()) {
            Fork<Integer> quick = scope.fork("quick", () -> 42);
            await().atMost(Duration.ofSeconds(10)).until(quick::isDone);
            // when the deadline passes with nothing running
            Instant deadline = scope.deadline().orElseThrow();
            await().atMost(Duration.ofSeconds(10)).until(() -> Instant.now().isAfter(deadline.plusMillis(50)));
            // then the scope was not cancelled, and joins normally
            scope.join();
            assertThat(scope.isCancelled()).isFalse();
            assertThat(quick.result()).isEqualTo(42);
            // but it takes no fork after its deadline
            assertThatThrownBy(() -> scope.fork("late", () -> 1))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("deadline");
        }
    }

    @Test
    void theDeadlineWatcherIsAThreadOfTheScopeAndEndsWithIt() throws Exception {
        // given a factory that records every thread it makes, and scopes with a deadline far away
        List<Thread> made = new CopyOnWriteArrayList<>();
        java.util.concurrent.ThreadFactory virtual = Thread.ofVirtual().factory();
        for (int i = 0; i < 200; i++) {
            Scope scope = Scope.builder()
                    .name("far-" + i)
                    .timeout(Duration.ofHours(1))
                    .threadFactory(r -> {
                        Thread t = virtual.newThread(r);
                        made.add(t);
                        return t;
                    })
                    .open();
            assertThat(made).as("no thread before the first fork").hasSize(2 * i);
            scope.fork("work", () -> 1);
            scope.join();
            // when the scope closes
            scope.close();
        }
        // then every thread the scopes made, the deadline watchers among them, has terminated
        assertThat(made)
                .hasSize(400)
                .filteredOn(t -> t.getName().endsWith("/deadline"))
                .hasSize(200);
        assertThat(made).allSatisfy(t -> assertThat(t.isAlive()).as(t.getName()).isFalse());
    }

    @Test
    void aDeadlineWatcherNeverKeepsTheJvmAliveEvenOnPlatformThreads() throws Exception {
        // given a scope of platform threads with a deadline far away
        List<Thread> made = new CopyOnWriteArrayList<>();
        java.util.concurrent.ThreadFactory platform = Thread.ofPlatform().factory();
        try (Scope scope = Scope.builder()
                .name("platform")
                .timeout(Duration.ofDays(365))
                .threadFactory(r -> {
                    Thread t = platform.newThread(r);
                    made.add(t);
                    return t;
                })
                .open()) {
            // when it forks
            scope.fork("work", () -> 1);
            scope.join();
            // then its deadline watcher is a daemon: forgetting close() cannot hold the JVM for a year
            assertThat(made)
                    .filteredOn(t -> t.getName().equals("platform/deadline"))
                    .singleElement()
                    .satisfies(t -> assertThat(t.isDaemon()).isTrue());
        }
        assertThat(made).allSatisfy(t -> assertThat(t.isAlive()).as(t.getName()).isFalse());
    }

    @Test
    void anInstantDeadlineWorksToo() throws Exception {
        try (Scope scope =
                Scope.builder().deadline(Instant.now().plusMillis(50)).open()) {
            scope.fork(() -> {
                Thread.sleep(Duration.ofMinutes(5));
                return null;
            });
            assertThatThrownBy(scope::join).isInstanceOf(TimeoutException.class);
        }
    }

    @Test
    void closeCancelsAndWaitsSoThatNoForkedThreadOutlivesTheScope() throws Exception {
        List<Thread> forked = new CopyOnWriteArrayList<>();
        CountDownLatch started = new CountDownLatch(3);
        Scope scope = Scope.open();
        for (int i = 0; i < 3; i++) {
            scope.fork(() -> {
                forked.add(Thread.currentThread());
                started.countDown();
                Thread.sleep(Duration.ofMinutes(5));
                return null;
            });
        }
        started.await();
        scope.close();
        assertThat(forked).hasSize(3).allSatisfy(t -> assertThat(t.isAlive()).isFalse());
        assertThat(scope.activeCount()).isZero();
        assertThatThrownBy(() -> scope.fork(() -> 1))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void afterJoinEveryForkedThreadHasTerminated() throws Exception {
        // Many short forks: each one's thread must be gone, not merely its task, when join returns.
        List<Thread> forked = new CopyOnWriteArrayList<>();
        try (Scope scope = Scope.open()) {
            for (int i = 0; i < 500; i++) {
                scope.fork(() -> forked.add(Thread.currentThread()));
            }
            scope.join();
            assertThat(forked)
                    .hasSize(500)
                    .allSatisfy(t -> assertThat(t.isAlive()).isFalse());
            assertThat(scope.activeCount()).isZero();
        }
    }

    @Test
    void forksAreVirtualByDefaultAndNamedAfterScopeAndFork() throws Exception {
        AtomicReference<Thread> seen = new AtomicReference<>();
        try (Scope scope = Scope.builder().name("orders").open()) {
            scope.fork("load", () -> seen.getAndSet(Thread.currentThread()));
            scope.join();
        }
        assertThat(seen.get().isVirtual()).isTrue();
        assertThat(seen.get().getName()).isEqualTo("orders/load");
    }

    @Test
    void aThreadFactoryChoosesPlatformThreads() throws Exception {
        AtomicReference<Thread> seen = new AtomicReference<>();
        try (Scope scope = Scope.builder()
                .name("io")
                .threadFactory(Thread.ofPlatform().factory())
                .open()) {
            scope.fork("x", () -> seen.getAndSet(Thread.currentThread()));
            scope.join();
        }
        assertThat(seen.get().isVirtual()).isFalse();
        assertThat(seen.get().getName()).isEqualTo("io/x");
    }

    @Test
    void theCallersMdcArrivesInForksAndIsClearedAfter() throws Exception {
        AtomicReference<Map<String, String>> inFork = new AtomicReference<>();
        MDC.put("correlationId", "abc-123");
        try (Scope scope = Scope.open()) {
            scope.fork(() -> inFork.getAndSet(MDC.getCopyOfContextMap()));
            scope.join();
        } finally {
            MDC.remove("correlationId");
        }
        assertThat(inFork.get()).containsEntry("correlationId", "abc-123");
    }

    @Test
    void anInterruptedJoinCancelsWaitsAndRestoresTheFlag() throws Exception {
        AtomicBoolean forkInterrupted = new AtomicBoolean();
        Scope scope = Scope.open();
        CountDownLatch started = new CountDownLatch(1);
        Fork<Object> fork = scope.fork(() -> {
            started.countDown();
            try {
                Thread.sleep(Duration.ofMinutes(5));
            } catch (InterruptedException e) {
                forkInterrupted.set(true);
                throw e;
            }
            return null;
        });
        started.await();
        Background<Boolean> joiner = Background.start(() -> {
                    try {
                        scope.join();
                        return false;
                    } catch (InterruptedException e) {
                        return Thread.currentThread().isInterrupted();
                    }
                })
                .awaitBlocked();
        joiner.thread().interrupt();
        assertThat(joiner.result()).as("flag restored").isTrue();
        assertThat(forkInterrupted).isTrue();
        assertThat(fork.isDone()).isTrue();
        assertThat(scope.activeCount()).isZero();
        scope.close();
    }

    @Test
    void forkingIsRefusedOnceCancelledAndJoinFromAForkIsRefused() throws Exception {
        try (Scope scope = Scope.open()) {
            Fork<Object> selfJoin = scope.fork(() -> {
                scope.join();
                return null;
            });
            assertThatThrownBy(scope::join)
                    .isInstanceOf(ExecutionException.class)
                    .cause()
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("wait for itself");
            assertThat(selfJoin.failure()).isPresent();
            assertThatThrownBy(() -> scope.fork(() -> 1))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no new forks");
        }
    }

    @Test
    void aForkThatIgnoresInterruptsIsReportedAsAStraggler() throws Exception {
        AtomicBoolean release = new AtomicBoolean();
        List<Thread> reported = new CopyOnWriteArrayList<>();
        Scope scope = Scope.builder()
                .name("stubborn")
                .stragglerReportInterval(Duration.ofMillis(50))
                .onStraggler(t -> {
                    reported.add(t);
                    release.set(true);
                })
                .open();
        CountDownLatch spinning = new CountDownLatch(1);
        scope.fork("spinner", () -> {
            spinning.countDown();
            while (!release.get()) {
                Thread.onSpinWait(); // ignores the interrupt
            }
            return null;
        });
        spinning.await();
        scope.cancel();
        assertThatThrownBy(scope::join).isInstanceOf(CancellationException.class);
        assertThat(reported).hasSize(1);
        assertThat(reported.get(0).getName()).isEqualTo("stubborn/spinner");
        assertThat(scope.activeCount()).isZero();
        scope.close();
    }

    @Test
    void badBuilderArgumentsAreRejectedWithTheirNames() {
        assertThatThrownBy(() -> Scope.builder().timeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("timeout")
                .hasMessageContaining("PT0S");
        assertThatThrownBy(() -> Scope.builder().stragglerReportInterval(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("stragglerReportInterval");
        assertThatThrownBy(() -> Scope.open().fork(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessageContaining("task");
    }

    @Test
    void manyForksFromManyThreadsAllEndBeforeJoinReturns() throws Exception {
        try (Scope scope = Scope.open()) {
            for (int i = 0; i < 20; i++) {
                scope.fork(() -> {
                    for (int j = 0; j < 50; j++) {
                        int k = j;
                        scope.fork(() -> k);
                    }
                    return null;
                });
            }
            scope.join();
            assertThat(scope.activeCount()).isZero();
        }
    }

    @Test
    void aForkThatRacesCloseNeverRunsAfterIt() throws Exception {
        // given a fork held inside the thread factory, past fork()'s first check, while close() runs
        CountDownLatch inFactory = new CountDownLatch(1);
        CountDownLatch releaseFactory = new CountDownLatch(1);
        java.util.concurrent.ThreadFactory virtual = Thread.ofVirtual().factory();
        java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
        Scope scope = Scope.builder()
                .threadFactory(r -> {
                    if (first.getAndSet(false)) {
                        inFactory.countDown();
                        try {
                            releaseFactory.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    return virtual.newThread(r);
                })
                .open();
        AtomicBoolean ran = new AtomicBoolean();
        Background<Object> forking = Background.start(() -> scope.fork(() -> {
            ran.set(true);
            return null;
        }));
        inFactory.await();
        // when
        scope.close();
        releaseFactory.countDown();
        // then the late fork is refused, and nothing ran after close()
        assertThat(forking.failure()).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThat(ran).isFalse();
        assertThat(scope.activeCount()).isZero();
    }

    @Test
    void closeFromAForkIsRefusedRatherThanHangingForever() throws Exception {
        try (Scope scope = Scope.open()) {
            Fork<Object> selfClose = scope.fork(() -> {
                scope.close();
                return null;
            });
            assertThatThrownBy(scope::join)
                    .isInstanceOf(ExecutionException.class)
                    .cause()
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("wait for itself");
            assertThat(selfClose.isDone()).isTrue();
        }
    }

    @Test
    void aTimeoutBeyondAnyClockIsNoDeadlineInPractice() throws Exception {
        try (Scope scope = Scope.builder()
                .timeout(java.time.temporal.ChronoUnit.FOREVER.getDuration())
                .open()) {
            Fork<Integer> f = scope.fork(() -> 42);
            scope.join();
            assertThat(f.result()).isEqualTo(42);
        }
    }

    @Test
    void aForkFailureAfterACancellationThatNoJoinReportedIsLoggedOnClose() throws Exception {
        // given the scope's log, and a fork whose clean-up after the interrupt fails
        ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(Scope.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logged =
                new ch.qos.logback.core.read.ListAppender<>();
        logged.start();
        logger.addAppender(logged);
        CountDownLatch waiting = new CountDownLatch(1);
        try {
            // when the caller bails out of the scope without joining, which cancels the fork
            try (Scope scope = Scope.open()) {
                scope.fork(() -> {
                    try {
                        waiting.countDown();
                        new CountDownLatch(1).await();
                        return null;
                    } catch (InterruptedException e) {
                        throw new java.io.IOException("clean-up failed");
                    }
                });
                assertThat(waiting.await(10, java.util.concurrent.TimeUnit.SECONDS))
                        .isTrue();
            }

            // then the fork's failure was not lost: close logged it
            assertThat(logged.list)
                    .filteredOn(event -> event.getLevel() == ch.qos.logback.classic.Level.WARN)
                    .anySatisfy(event ->
                            assertThat(event.getThrowableProxy().getMessage()).isEqualTo("clean-up failed"));
        } finally {
            logger.detachAppender(logged);
        }
    }
}
