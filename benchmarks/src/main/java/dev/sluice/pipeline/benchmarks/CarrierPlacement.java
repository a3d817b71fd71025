package dev.sluice.pipeline.benchmarks;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * A diagnostic, not a benchmark: a one-to-one hand-off on virtual threads ({@link HandOff#oneToOne}'s workload),
 * round after round in one JVM, reporting for each round the time per item, the share of the round during which
 * both threads ran on the same carrier, and how often they moved from one carrier to another. It tells whether a
 * hand-off's speed follows where the scheduler puts its two threads. Run from the benchmarks' jar:
 *
 * <pre>
 * java -Xms2g -Xmx2g -cp benchmarks/target/benchmarks.jar dev.sluice.pipeline.benchmarks.CarrierPlacement KIND CAPACITY ROUNDS
 * </pre>
 *
 * <p>KIND is a {@link LinkKind} in lower case with hyphens ({@code sluice-mpmc}, {@code sluice-spsc},
 * {@code array-blocking-queue}, ...). Each thread notes its carrier every {@value #SAMPLE_EVERY} items; the share is
 * of the item positions at which both noted the same carrier (the receiver is at most {@code CAPACITY} items behind
 * the sender, so both notes of a position are close in time). The carrier is read from the virtual thread's
 * {@code toString()}, which names it on JDK 21 to 25; the sampling costs about a nanosecond per item. Every round
 * checks the sum of the items received.
 */
public final class CarrierPlacement {

    /** Items per round, as in the hand-off benchmark. */
    static final int ITEMS = 1_000_000;

    /** Each thread notes its carrier once per this many items; a power of two. */
    static final int SAMPLE_EVERY = 1024;

    private CarrierPlacement() {}

    /**
     * One round: its time per item; the share of sampled positions at which both threads were on the same carrier;
     * and the share of consecutive samples between which a thread had moved to another carrier (both threads'
     * samples counted).
     */
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
        int same = 0;
        for (int k = 0; k < samples; k++) {
            if (senderCarriers[k].equals(receiverCarriers[k])) {
                same++;
            }
        }
        int moved = 0;
        for (int k = 1; k < samples; k++) {
            moved += senderCarriers[k].equals(senderCarriers[k - 1]) ? 0 : 1;
            moved += receiverCarriers[k].equals(receiverCarriers[k - 1]) ? 0 : 1;
        }
        return new Round(nanosPerItem, (double) same / samples, samples < 2 ? 0.0 : moved / (2.0 * (samples - 1)));
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
