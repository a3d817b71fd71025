package dev.sluice.pipeline.benchmarks;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * A diagnostic, not a benchmark: a one-to-one hand-off on virtual threads (the loop of {@link HandOff#oneToOne}, with
 * notes added), round after round in one JVM. Each thread notes its carrier every {@value #SAMPLE_EVERY} items, and
 * each round reports its time per item and two shares computed from those notes (see {@link #shares}): of the noted
 * positions, those at which both threads were on the same carrier (two virtual threads never run on one carrier at
 * once: they took turns on it); and of the intervals between a thread's consecutive notes, those at whose ends its
 * carrier differed. Both are counted per item, not per unit of time, so a slower round spans more time per note; and
 * a thread that moves and comes back between two notes is not seen. They show whether a round's speed goes with where
 * the scheduler put its two threads; they do not show that it is caused by it. Run from the benchmarks' jar:
 *
 * <pre>
 * java -Xms2g -Xmx2g -XX:+AlwaysPreTouch -cp benchmarks/target/benchmarks.jar dev.sluice.pipeline.benchmarks.CarrierPlacement KIND CAPACITY ROUNDS
 * </pre>
 *
 * <p>KIND is a {@link LinkKind} in lower case with hyphens ({@code sluice-mpmc}, {@code sluice-spsc},
 * {@code array-blocking-queue}, ...). CAPACITY is at most {@value #MAX_CAPACITY}, so that the receiver, at most
 * CAPACITY items behind the sender, notes a position soon after the sender did. The carrier is read from the virtual
 * thread's {@code toString()}, which names it on JDK 21 to 25. Every round checks the sum of the items received.
 */
public final class CarrierPlacement {

    /** Items per round, as in the hand-off benchmark. */
    static final int ITEMS = 1_000_000;

    /** Each thread notes its carrier once per this many items; a power of two. */
    static final int SAMPLE_EVERY = 1024;

    /** The largest capacity for which both threads' notes of a position are close in time. */
    static final int MAX_CAPACITY = SAMPLE_EVERY / 4;

    private CarrierPlacement() {}

    /** One round: its time per item and the shares of {@link #shares}. */
    record Round(long nanosPerItem, double sameCarrierShare, double movedShare) {
        @Override
        public String toString() {
            return String.format(
                    Locale.ROOT,
                    "%d ns/item, same carrier %.0f%%, moved %.0f%%",
                    nanosPerItem,
                    100 * sameCarrierShare,
                    100 * movedShare);
        }
    }

    public static void main(String[] args) throws InterruptedException {
        int status = run(args, System.out, System.err);
        if (status != 0) {
            System.exit(status);
        }
    }

    /**
     * Runs the rounds {@code args} ask for, printing one line per round to {@code out}.
     *
     * @return 0, or 2 after a one-line message on {@code err} if the arguments are wrong
     */
    static int run(String[] args, PrintStream out, PrintStream err) throws InterruptedException {
        LinkKind kind;
        int capacity;
        int rounds;
        try {
            if (args.length != 3) {
                throw new IllegalArgumentException("expected 3 arguments (KIND CAPACITY ROUNDS), got " + args.length);
            }
            kind = kind(args[0]);
            capacity = positive("CAPACITY", args[1]);
            if (capacity > MAX_CAPACITY) {
                throw new IllegalArgumentException("CAPACITY is " + capacity + "; expected at most " + MAX_CAPACITY
                        + ", so that both threads note a position at nearly the same time");
            }
            rounds = positive("ROUNDS", args[2]);
        } catch (IllegalArgumentException e) {
            err.println("CarrierPlacement: " + e.getMessage());
            return 2;
        }
        Long[] items = Items.boxed(ITEMS);
        for (int r = 1; r <= rounds; r++) {
            out.println("round " + r + ": " + round(kind.create(capacity, 1, 1), items));
        }
        return 0;
    }

    /** Hands every item from one virtual thread to another through {@code link}, noting both threads' carriers. */
    static Round round(Link<Long> link, Long[] items) throws InterruptedException {
        int samples = (items.length + SAMPLE_EVERY - 1) / SAMPLE_EVERY;
        String[] senderCarriers = new String[samples];
        String[] receiverCarriers = new String[samples];
        long[] sum = new long[1];
        long start = System.nanoTime();
        new Workers(ThreadKind.VIRTUAL)
                .add("producer", () -> {
                    for (int i = 0; i < items.length; i++) {
                        link.send(items[i]);
                        if ((i & (SAMPLE_EVERY - 1)) == 0) {
                            senderCarriers[i / SAMPLE_EVERY] = carrier();
                        }
                    }
                })
                .add("consumer", () -> {
                    long s = 0;
                    for (int i = 0; i < items.length; i++) {
                        s += link.receive();
                        if ((i & (SAMPLE_EVERY - 1)) == 0) {
                            receiverCarriers[i / SAMPLE_EVERY] = carrier();
                        }
                    }
                    sum[0] = s; // published to this thread by Thread.join
                })
                .runAll();
        long nanosPerItem = (System.nanoTime() - start) / items.length;
        Items.expect("sum of the items received", Items.sumOfRange(0, items.length), sum[0]);
        double[] shares = shares(senderCarriers, receiverCarriers);
        return new Round(nanosPerItem, shares[0], shares[1]);
    }

    /**
     * From two threads' notes of their carrier at the same positions: the share of positions at which both noted the
     * same carrier, and the share of consecutive pairs of a thread's notes (both threads' pairs counted) that differ.
     *
     * @return the two shares, each from 0 to 1
     * @throws IllegalArgumentException unless both hold the same number of notes, at least two
     */
    static double[] shares(String[] sender, String[] receiver) {
        if (sender.length != receiver.length || sender.length < 2) {
            throw new IllegalArgumentException("expected two arrays of the same length, at least 2, got "
                    + sender.length + " and " + receiver.length);
        }
        int same = 0;
        int moved = 0;
        for (int k = 0; k < sender.length; k++) {
            same += sender[k].equals(receiver[k]) ? 1 : 0;
            if (k > 0) {
                moved += sender[k].equals(sender[k - 1]) ? 0 : 1;
                moved += receiver[k].equals(receiver[k - 1]) ? 0 : 1;
            }
        }
        return new double[] {(double) same / sender.length, moved / (2.0 * (sender.length - 1))};
    }

    /**
     * The carrier the calling virtual thread is mounted on, as its {@code toString()} names it (after the last
     * {@code @}, for example {@code ForkJoinPool-1-worker-2}).
     *
     * @throws IllegalStateException if the calling thread is not virtual or its name gives no carrier
     */
    static String carrier() {
        Thread t = Thread.currentThread();
        String s = t.toString();
        int at = s.lastIndexOf('@');
        if (!t.isVirtual() || at < 0) {
            throw new IllegalStateException(
                    "not a mounted virtual thread, or a JDK that does not name the carrier: " + s);
        }
        return s.substring(at + 1);
    }

    private static LinkKind kind(String name) {
        for (LinkKind k : LinkKind.values()) {
            if (argumentName(k).equals(name)) {
                return k;
            }
        }
        throw new IllegalArgumentException("KIND is '" + name + "'; expected one of "
                + Arrays.stream(LinkKind.values())
                        .map(CarrierPlacement::argumentName)
                        .collect(Collectors.joining(", ")));
    }

    static String argumentName(LinkKind k) {
        return k.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private static int positive(String what, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(what + " is '" + value + "'; expected a whole number of at least 1");
    }
}
