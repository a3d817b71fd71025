package dev.sluice.pipeline.benchmarks;

/**
 * The payload of the benchmarks and the checks on what arrived. Items are boxed once, before measuring, so that
 * sending them allocates nothing and {@code -prof gc} shows what the queue itself allocates per item.
 */
final class Items {

    private Items() {}

    /** {@code 0L, 1L, ..., n - 1}, boxed. */
    static Long[] boxed(int n) {
        Long[] items = new Long[n];
        for (int i = 0; i < n; i++) {
            items[i] = (long) i;
        }
        return items;
    }

    /** The sum of {@code from + 0, from + 1, ..., from + n - 1}. */
    static long sumOfRange(long from, long n) {
        return n * from + n * (n - 1) / 2;
    }

    /**
     * Throws unless a run delivered what it should: a broken run must not look fast.
     *
     * @return {@code actual}, for a {@code Blackhole}
     */
    static long expect(String what, long expected, long actual) {
        if (expected != actual) {
            throw new IllegalStateException(
                    what + ": expected " + expected + ", got " + actual + " (a lost, duplicated or corrupted item)");
        }
        return actual;
    }
}
