package dev.sluice.pipeline.grpc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.grpc.internal.ResponseBuffer.Wait;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * When the buffer wakes the source's thread: at once for a quiet stream's message, for a group (or after the
 * longest delay) while the stream flows. The buffer says what its taker waits for ({@link Wait}); a wait for a group
 * of 200 µs or more ends by the shared {@link BatchWaitTimer}, a shorter one by a timed wait of its own.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ResponseBufferTest {

    private static final long ONE_MINUTE = TimeUnit.MINUTES.toNanos(1);
    private static final int THRESHOLD = 4;

    private final List<Thread> takers = new ArrayList<>();
    private Thread taker;
    /** Held for the test, as a source's run holds it. */
    private BatchWaitTimer timer;

    @BeforeEach
    void holdTheTimer() {
        timer = BatchWaitTimer.acquire();
    }

    @AfterEach
    void stopTakers() throws InterruptedException {
        for (Thread t : takers) {
            t.interrupt();
            t.join();
        }
        timer.release();
    }

    private ResponseBuffer<String> buffer(long maxDelayNanos) {
        return new ResponseBuffer<>(64, THRESHOLD, maxDelayNanos, timer);
    }

    /** Takes on a platform thread: completes with the items taken, or with the end code as a one-element list. */
    private CompletableFuture<List<Object>> takeInBackground(ResponseBuffer<String> buffer) {
        CompletableFuture<List<Object>> result = new CompletableFuture<>();
        taker = Thread.ofPlatform().name("taker-" + takers.size()).start(() -> {
            try {
                List<String> into = new ArrayList<>();
                int n = buffer.take(into, 64, 0);
                result.complete(n < 0 ? List.of(n) : List.copyOf(into));
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        takers.add(taker);
        return result;
    }

    private void awaitTaker(Thread.State state) {
        await().atMost(Duration.ofSeconds(10)).until(() -> taker.getState() == state);
    }

    private static void awaitWait(ResponseBuffer<String> buffer, Wait wait) {
        awaitWait(buffer, wait, Duration.ofSeconds(10));
    }

    private static void awaitWait(ResponseBuffer<String> buffer, Wait wait, Duration atMost) {
        await().atMost(atMost).until(() -> buffer.currentWait() == wait);
    }

    /** Two messages arrive while the taker is away: the next take finds them waiting, so the stream flows. */
    private ResponseBuffer<String> flowing(long maxDelayNanos) throws InterruptedException {
        return flowing(buffer(maxDelayNanos));
    }

    private static ResponseBuffer<String> flowing(ResponseBuffer<String> buffer) throws InterruptedException {
        buffer.put("a");
        buffer.put("b");
        List<String> into = new ArrayList<>();
        assertThat(buffer.take(into, 64, 0)).isEqualTo(2);
        assertThat(into).containsExactly("a", "b");
        return buffer;
    }

    @Test
    void aQuietStreamsMessageWakesTheTakerAtOnce() throws Exception {
        ResponseBuffer<String> buffer = buffer(ONE_MINUTE);
        CompletableFuture<List<Object>> taken = takeInBackground(buffer);
        awaitWait(buffer, Wait.A_MESSAGE); // an untimed wait for one message

        buffer.put("first");

        // A wait for a group would last a minute: the 30 s timeout of the test would end it first.
        assertThat(taken.join()).containsExactly("first");
    }

    @Test
    void aFlowingStreamWakesTheTakerForAGroupNotForEachMessage() throws Exception {
        ResponseBuffer<String> buffer = flowing(ONE_MINUTE);
        CompletableFuture<List<Object>> taken = takeInBackground(buffer);
        awaitWait(buffer, Wait.A_GROUP); // a wait for a group, a minute at most

        for (int i = 1; i < THRESHOLD; i++) {
            buffer.put("m" + i);
        }
        // Below the threshold the taker stays asleep (a spurious wake-up only makes it wait again).
        await().during(Duration.ofMillis(300))
                .atMost(Duration.ofSeconds(5))
                .until(() -> !taken.isDone() && buffer.currentWait() == Wait.A_GROUP);

        buffer.put("m" + THRESHOLD);

        assertThat(taken.join()).containsExactly("m1", "m2", "m3", "m4");
    }

    @Test
    void aGroupThatDoesNotFillWithinTheMaxDelayGoesAsItIsAndTheStreamIsQuietAgain() throws Exception {
        ResponseBuffer<String> buffer = flowing(TimeUnit.SECONDS.toNanos(3));
        long started = System.nanoTime();
        CompletableFuture<List<Object>> taken = takeInBackground(buffer);
        awaitWait(buffer, Wait.A_GROUP); // seen within the 3 s the wait for a group lasts

        buffer.put("alone");

        // One message, far below the threshold: it goes when the 3 s are up (within the shared timer's last tick).
        assertThat(taken.join()).containsExactly("alone");
        assertThat(Duration.ofNanos(System.nanoTime() - started))
                .isGreaterThanOrEqualTo(Duration.ofSeconds(3).minusNanos(BatchWaitTimer.TICK_NANOS));
        // Too slow to gather a group: the next take waits for one message, untimed, at once (a wait for a group
        // would be a timed one for 3 s first).
        CompletableFuture<List<Object>> next = takeInBackground(buffer);
        awaitWait(buffer, Wait.A_MESSAGE, Duration.ofSeconds(2));
        buffer.put("next");
        assertThat(next.join()).containsExactly("next");
    }

    @Test
    void oneMessageWaitingAtATakeIsNotAFlow() throws Exception {
        ResponseBuffer<String> buffer = buffer(ONE_MINUTE);
        buffer.put("the answer to the last one");
        assertThat(buffer.take(new ArrayList<>(), 64, 0)).isEqualTo(1);

        CompletableFuture<List<Object>> taken = takeInBackground(buffer);

        awaitWait(buffer, Wait.A_MESSAGE); // a stream in lock-step: still one wake-up per message
        buffer.put("next");
        assertThat(taken.join()).containsExactly("next");
    }

    @Test
    void interruptedWhileMessagesWaitForTheirGroupTheTakerReturnsThemWithItsInterruptSet() throws Exception {
        ResponseBuffer<String> buffer = flowing(ONE_MINUTE);
        CompletableFuture<Boolean> interruptSet = new CompletableFuture<>();
        CompletableFuture<List<Object>> taken = new CompletableFuture<>();
        taker = Thread.ofPlatform().name("interrupted taker").start(() -> {
            try {
                List<String> into = new ArrayList<>();
                int n = buffer.take(into, 64, 0);
                interruptSet.complete(Thread.currentThread().isInterrupted());
                taken.complete(n < 0 ? List.of(n) : List.copyOf(into));
            } catch (Throwable t) {
                taken.completeExceptionally(t);
            }
        });
        takers.add(taker);
        awaitWait(buffer, Wait.A_GROUP);
        buffer.put("received 1");
        buffer.put("received 2");

        taker.interrupt(); // a graceful stop

        assertThat(taken.join()).containsExactly("received 1", "received 2");
        assertThat(interruptSet.join()).isTrue();
    }

    @Test
    void interruptedWhileNothingIsBufferedTheTakerThrows() throws Exception {
        ResponseBuffer<String> buffer = flowing(ONE_MINUTE);
        CompletableFuture<List<Object>> taken = takeInBackground(buffer);
        awaitWait(buffer, Wait.A_GROUP);

        taker.interrupt();

        assertThat(taken)
                .failsWithin(Duration.ofSeconds(10))
                .withThrowableThat()
                .havingRootCause()
                .isInstanceOf(InterruptedException.class);
    }

    /** Both ways a wait for a group ends by its time: the shared timer (50 ms), or a timed wait of its own (0.1 ms). */
    @ParameterizedTest
    @ValueSource(longs = {50_000_000L, BatchWaitTimer.TICK_NANOS})
    void aPauseLongerThanTheMaxDelayMakesTheStreamQuietAgain(long maxDelayNanos) throws Exception {
        ResponseBuffer<String> buffer = flowing(maxDelayNanos);
        CompletableFuture<List<Object>> taken = takeInBackground(buffer);

        // The wait for a group ends with nothing when its time is up; then the taker waits for one message, untimed.
        awaitWait(buffer, Wait.A_MESSAGE);
        buffer.put("after the pause");

        assertThat(taken.join()).containsExactly("after the pause");
    }

    @Test
    void withoutTheSharedTimerALongWaitForAGroupEndsByItsOwnTime() throws Exception {
        ResponseBuffer<String> buffer = flowing(new ResponseBuffer<>(64, THRESHOLD, 50_000_000L, null));
        CompletableFuture<List<Object>> taken = takeInBackground(buffer);

        // The 50 ms wait for a group ends with nothing; then the taker waits for one message, untimed.
        awaitWait(buffer, Wait.A_MESSAGE);
        buffer.put("after the pause");

        assertThat(taken.join()).containsExactly("after the pause");
    }

    @Test
    void theEndOfTheCallWakesAWaitForAGroup() throws InterruptedException {
        ResponseBuffer<String> buffer = flowing(ONE_MINUTE);
        CompletableFuture<List<Object>> taken = takeInBackground(buffer);
        awaitWait(buffer, Wait.A_GROUP);

        buffer.put("last");
        buffer.complete();

        assertThat(taken.join()).containsExactly("last");
        assertThat(buffer.take(new ArrayList<>(), 64, 0)).isEqualTo(ResponseBuffer.COMPLETED);
    }

    @Test
    void aFailureWakesAWaitForAGroupAndEndsIt() throws Exception {
        ResponseBuffer<String> buffer = flowing(ONE_MINUTE);
        CompletableFuture<List<Object>> taken = takeInBackground(buffer);
        awaitWait(buffer, Wait.A_GROUP);

        buffer.fail(Status.UNAVAILABLE);

        assertThat(taken.join()).containsExactly(ResponseBuffer.FAILED);
        assertThat(buffer.failure().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    }

    @Test
    void withNoMaxDelayEveryMessageWakesTheTaker() throws Exception {
        ResponseBuffer<String> buffer = flowing(0);
        CompletableFuture<List<Object>> taken = takeInBackground(buffer);
        awaitWait(buffer, Wait.A_MESSAGE); // flowing, but never a wait for a group

        buffer.put("one");

        assertThat(taken.join()).containsExactly("one");
    }

    @Test
    void theIdleTimeoutStillEndsAWaitForAGroup() throws InterruptedException {
        ResponseBuffer<String> buffer = flowing(ONE_MINUTE);

        int n = buffer.take(new ArrayList<>(), 64, TimeUnit.MILLISECONDS.toNanos(100));

        assertThat(n).isEqualTo(ResponseBuffer.IDLE);
    }

    @Test
    void aTricklingStreamIsNotIdleThoughItOutlastsTheIdleTimeout() throws Exception {
        // A message every 100 ms for 2 s, with an idle timeout of 1 s: the silence between two messages is what
        // counts, never the time since the call began.
        ResponseBuffer<String> buffer = buffer(ONE_MINUTE);
        long idle = TimeUnit.SECONDS.toNanos(1);
        int messages = 20;
        Thread producer = Thread.ofPlatform().name("trickle").start(() -> {
            for (int i = 0; i < messages; i++) {
                buffer.put("m" + i);
                long sent = System.nanoTime();
                await().pollDelay(Duration.ofMillis(100))
                        .atMost(Duration.ofSeconds(5))
                        .until(() -> System.nanoTime() - sent >= TimeUnit.MILLISECONDS.toNanos(100));
            }
        });
        takers.add(producer);
        List<String> into = new ArrayList<>();

        while (into.size() < messages) {
            int n = buffer.take(into, 64, idle);
            assertThat(n).as("take after %s messages", into.size()).isPositive();
        }

        assertThat(into).hasSize(messages);
        // Then a silence of the full timeout is idleness.
        assertThat(buffer.take(into, 64, idle)).isEqualTo(ResponseBuffer.IDLE);
    }

    @Test
    void afterACancelTheMessagesDeliveredUntilTheCallEndsAreKeptThoughTheTakerIsInterrupted() throws Exception {
        ResponseBuffer<String> buffer = buffer(ONE_MINUTE);
        buffer.put("before the cancel");
        CompletableFuture<Boolean> endedInTime = new CompletableFuture<>();
        CompletableFuture<Boolean> stillInterrupted = new CompletableFuture<>();
        taker = Thread.ofPlatform().name("stopping taker").start(() -> {
            Thread.currentThread().interrupt(); // the stop that made it cancel
            endedInTime.complete(buffer.awaitEndAfterCancel(TimeUnit.SECONDS.toNanos(20)));
            stillInterrupted.complete(Thread.currentThread().isInterrupted());
        });
        takers.add(taker);
        awaitTaker(Thread.State.TIMED_WAITING); // the interrupt did not end the wait

        buffer.put("decoded before the transport saw the cancel");
        assertThat(buffer.currentWait()).isEqualTo(Wait.THE_END); // a message does not end that wait
        buffer.fail(Status.CANCELLED);
        buffer.put("after the end");

        assertThat(endedInTime.join()).isTrue();
        assertThat(stillInterrupted.join()).isTrue();
        List<String> rest = new ArrayList<>();
        buffer.drainTo(rest);
        assertThat(rest).containsExactly("before the cancel", "decoded before the transport saw the cancel");
    }

    @Test
    void aCallThatDoesNotEndAfterItsCancelIsGivenUpOnAndLaterMessagesAreDropped() throws Exception {
        ResponseBuffer<String> buffer = buffer(ONE_MINUTE);

        assertThat(buffer.awaitEndAfterCancel(TimeUnit.MILLISECONDS.toNanos(50)))
                .isFalse();

        buffer.put("too late");
        List<String> rest = new ArrayList<>();
        buffer.drainTo(rest);
        assertThat(rest).isEmpty();
    }

    @Test
    void theSharedTimerSleepsOnceNoSourceWaitsForAGroup() throws Exception {
        ResponseBuffer<String> buffer = flowing(ONE_MINUTE);
        CompletableFuture<List<Object>> taken = takeInBackground(buffer);
        awaitWait(buffer, Wait.A_GROUP);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> timer.thread().getState() == Thread.State.TIMED_WAITING); // ticking
        for (int i = 1; i <= THRESHOLD; i++) {
            buffer.put("m" + i);
        }
        assertThat(taken.join()).hasSize(THRESHOLD);

        // The taker waits for no group any more (it is away, as if handing the group downstream): after a few
        // ticks the timer stops watching the buffer, and with nothing else to watch it sleeps, untimed.
        await().atMost(Duration.ofSeconds(10)).until(() -> timer.thread().getState() == Thread.State.WAITING);
    }

    @Test
    void anImpossibleThresholdOrANegativeDelayIsRefused() throws Exception {
        assertThatThrownBy(() -> new ResponseBuffer<String>(8, 0, 0, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("wakeThreshold must be between 1 and 8, got 0");
        assertThatThrownBy(() -> new ResponseBuffer<String>(8, 9, 0, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("wakeThreshold must be between 1 and 8, got 9");
        assertThatThrownBy(() -> new ResponseBuffer<String>(8, 4, -1, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxDelayNanos must be at least 0, got -1");
    }
}
