package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/** Acknowledgements for items 0..n-1 that record each item's disposition and how often it was told. */
final class AckRecorder {
    private final AtomicReferenceArray<Disposition> dispositions;
    private final AtomicIntegerArray calls;
    private final AtomicIntegerArray issued;

    AckRecorder(int n) {
        dispositions = new AtomicReferenceArray<>(n);
        calls = new AtomicIntegerArray(n);
        issued = new AtomicIntegerArray(n);
    }

    /** The acknowledgement of {@code item}, which then counts as emitted. */
    Acknowledgement ack(int item) {
        issued.set(item, 1);
        return d -> {
            calls.incrementAndGet(item);
            dispositions.set(item, d);
        };
    }

    /** A source emitting 0..n-1 (as longs), each with its acknowledgement. */
    Source<Long> source() {
        return emitter -> {
            for (int i = 0; i < dispositions.length(); i++) {
                emitter.emit((long) i, ack(i));
            }
        };
    }

    Disposition of(int item) {
        return dispositions.get(item);
    }

    /** Every item emitted (whose acknowledgement was asked for) was told exactly once, and no other item was. */
    void assertEachToldOnce() {
        List<Integer> wrong = new ArrayList<>();
        for (int i = 0; i < calls.length(); i++) {
            if (calls.get(i) != issued.get(i)) {
                wrong.add(i);
            }
        }
        assertThat(wrong)
                .as("items not told exactly once (calls: %s)", callsOf(wrong))
                .isEmpty();
    }

    /** How many items got each disposition. */
    Map<Disposition, Integer> counts() {
        Map<Disposition, Integer> counts = new TreeMap<>();
        for (int i = 0; i < dispositions.length(); i++) {
            Disposition d = dispositions.get(i);
            if (d != null) {
                counts.merge(d, 1, Integer::sum);
            }
        }
        return counts;
    }

    private List<Integer> callsOf(List<Integer> items) {
        List<Integer> c = new ArrayList<>();
        for (int i : items.subList(0, Math.min(10, items.size()))) {
            c.add(calls.get(i));
        }
        return c;
    }
}
