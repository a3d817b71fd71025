package dev.sluice.pipeline.grpc;

import dev.sluice.pipeline.CheckedConsumer;
import dev.sluice.pipeline.proto.items.Item;

/** A sink action that fails at the first item out of sequence 1, 2, 3, … and counts the rest. */
final class InOrder implements CheckedConsumer<Item> {
    private volatile long next = 1;

    @Override
    public void accept(Item item) {
        long expected = next;
        if (item.getSequence() != expected) {
            throw new AssertionError("expected item " + expected + ", got " + item.getSequence()
                    + (item.getSequence() < expected ? " (a duplicate)" : " (a gap)"));
        }
        next = expected + 1;
    }

    /** Items accepted so far. */
    long count() {
        return next - 1;
    }
}
