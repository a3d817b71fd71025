package dev.sluice.pipeline.internal;

import java.util.concurrent.atomic.LongAdder;

/**
 * A test-only count of the waiting a {@link BoundedChannel} does: parks of senders and receivers (each a thread
 * switch), yields of waiting threads, yields after a lost race (ADR 0014), and the wake-ups channels issue. Off
 * unless the JVM runs with {@code -Dsluice.channel.probe=true}; when off, {@link #ENABLED} is a constant false and
 * the JIT folds every counting site away. The counts are global (the sum over every channel of the JVM), which is
 * what "switches per item and hop" needs: divide by items × hops.
 * Not part of the API: tests and benchmarks read it.
 *
 * @since 0.1
 */
public final class ChannelProbe {

    /** The system property that turns the probe on. */
    public static final String PROPERTY = "sluice.channel.probe";

    /** Whether the probe counts; read once, when the class loads. */
    public static final boolean ENABLED = Boolean.getBoolean(PROPERTY);

    private static final LongAdder SENDER_PARKS = new LongAdder();
    private static final LongAdder RECEIVER_PARKS = new LongAdder();
    private static final LongAdder SENDER_WAKES = new LongAdder();
    private static final LongAdder RECEIVER_WAKES = new LongAdder();
    private static final LongAdder YIELDS = new LongAdder();
    private static final LongAdder LOST_RACES = new LongAdder();

    private ChannelProbe() {}

    static void senderParked() {
        SENDER_PARKS.increment();
    }

    static void receiverParked() {
        RECEIVER_PARKS.increment();
    }

    static void senderWoken() {
        SENDER_WAKES.increment();
    }

    static void receiverWoken() {
        RECEIVER_WAKES.increment();
    }

    static void yielded() {
        YIELDS.increment();
    }

    static void lostRace() {
        LOST_RACES.increment();
    }

    /**
     * The counts since the last reset.
     *
     * @return a snapshot of the counts
     */
    public static Counts counts() {
        return new Counts(
                SENDER_PARKS.sum(),
                RECEIVER_PARKS.sum(),
                SENDER_WAKES.sum(),
                RECEIVER_WAKES.sum(),
                YIELDS.sum(),
                LOST_RACES.sum());
    }

    /** Sets the counts to zero (not atomic with counting: call it while no channel waits). */
    public static void reset() {
        SENDER_PARKS.reset();
        RECEIVER_PARKS.reset();
        SENDER_WAKES.reset();
        RECEIVER_WAKES.reset();
        YIELDS.reset();
        LOST_RACES.reset();
    }

    /**
     * A snapshot of the probe's counts.
     *
     * @param senderParks times a sender parked on a full channel
     * @param receiverParks times a receiver parked on an empty channel
     * @param senderWakes wake-ups issued to one parked sender each (a close or fail wakes every waiter and is not
     *     counted)
     * @param receiverWakes wake-ups issued to one parked receiver each (likewise)
     * @param yields times a waiting thread yielded its carrier instead of parking (a switch when another virtual
     *     thread was ready to run)
     * @param lostRaces times a virtual thread lost a compare-and-set to another sender or receiver and yielded its
     *     carrier before trying again
     */
    public record Counts(
            long senderParks, long receiverParks, long senderWakes, long receiverWakes, long yields, long lostRaces) {

        /**
         * Parks of both sides: each is a thread switch.
         *
         * @return senderParks + receiverParks
         */
        public long parks() {
            return senderParks + receiverParks;
        }
    }
}
