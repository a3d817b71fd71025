package dev.sluice.pipeline.benchmarks;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The virtual-thread scheduler's own costs, with no queue in the way: what a stage pays each time it gives up its
 * carrier, whatever channel it waits on. The floor under the chain (benchmark 3): a chain's hop costs its queue
 * operations plus its share of these switches.
 */
final class Switches {

    private Switches() {}

    /**
     * {@code threads} virtual threads each call {@link Thread#yield()} {@code yields} times: every call unmounts the
     * thread, queues it behind the others and mounts the next one.
     *
     * @return the number of yields made, checked
     */
    static long yields(int threads, int yields) throws InterruptedException {
        if (threads < 1 || yields < 1) {
            throw new IllegalArgumentException(
                    "threads and yields must be at least 1, got " + threads + " and " + yields);
        }
        AtomicLong made = new AtomicLong();
        Workers workers = new Workers(ThreadKind.VIRTUAL);
        for (int t = 0; t < threads; t++) {
            workers.add("yielder-" + t, () -> {
                for (int i = 0; i < yields; i++) {
                    Thread.yield();
                }
                made.addAndGet(yields); // counted once the thread has made them all
            });
        }
        workers.runAll();
        return Items.expect("yields made", (long) threads * yields, made.get());
    }

    /**
     * Two virtual threads take turns {@code rounds} times each: a thread parks until it is its turn, passes the turn
     * and unparks the other. A turn is an unpark and, unless the turn came back before the thread could park, a park:
     * the hand-back a waiting stage needs.
     *
     * @return the number of turns taken, checked
     */
    static long pingPong(int rounds) throws InterruptedException {
        if (rounds < 1) {
            throw new IllegalArgumentException("rounds must be at least 1, got " + rounds);
        }
        Thread[] players = new Thread[2];
        AtomicLong turn = new AtomicLong(); // even: player 0's turn, odd: player 1's
        Workers workers = new Workers(ThreadKind.VIRTUAL);
        for (int p = 0; p < 2; p++) {
            int me = p;
            workers.add("player-" + p, () -> {
                Thread other = players[1 - me];
                for (int i = 0; i < rounds; i++) {
                    while ((turn.get() & 1) != me) {
                        LockSupport.park(turn);
                        if (Thread.interrupted()) {
                            throw new InterruptedException();
                        }
                    }
                    turn.incrementAndGet();
                    LockSupport.unpark(other);
                }
            });
        }
        workers.threads().toArray(players); // before runAll starts them: Thread.start publishes the array
        workers.runAll();
        return Items.expect("turns taken", 2L * rounds, turn.get());
    }
}
