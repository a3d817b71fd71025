package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.CheckedConsumer;
import dev.sluice.pipeline.CheckedFunction;
import dev.sluice.pipeline.CheckedPredicate;
import dev.sluice.pipeline.Source;
import java.time.Duration;

/** What a stage does: the closed set of stage kinds. Items are untyped here; the public API keeps the types. */
public sealed interface Operator {

    /** Whether the stage has a user function, so that an error policy means something. */
    default boolean hasFunction() {
        return true;
    }

    /** How many threads take items from the stage's input link. */
    default int inputThreads() {
        return 1;
    }

    /** How many threads put items into the stage's output link. */
    default int outputThreads() {
        return 1;
    }

    /** How many elements of the output link one source item can stand for (a batch link carries lists). */
    default int itemsPerOutputElement() {
        return 1;
    }

    record FromSource(Source<Object> source) implements Operator {
        @Override
        public boolean hasFunction() {
            return false;
        }
    }

    record Map(CheckedFunction<Object, Object> fn) implements Operator {}

    record Filter(CheckedPredicate<Object> predicate) implements Operator {}

    record FlatMap(CheckedFunction<Object, ? extends Iterable<?>> fn) implements Operator {}

    record Peek(CheckedConsumer<Object> action) implements Operator {}

    /** {@code mapConcurrent}: ordered with a reorder window of {@code 2 * concurrency}, or unordered. */
    record ConcurrentMap(CheckedFunction<Object, Object> fn, int concurrency, boolean ordered) implements Operator {
        @Override
        public int inputThreads() {
            return ordered ? 1 : concurrency;
        }

        @Override
        public int outputThreads() {
            return ordered ? 1 : concurrency;
        }

        /** The reorder window: an ordered stage stops taking input while this many items are in it. */
        public int window() {
            return 2 * concurrency;
        }
    }

    /**
     * {@code mapConcurrentByKey}: items of one key in input order, keys in parallel, at most {@code window} items
     * held. One dispatcher takes input; {@code concurrency} workers send output.
     */
    record KeyedMap(CheckedFunction<Object, ?> keyFn, CheckedFunction<Object, Object> fn, int concurrency, int window)
            implements Operator {
        @Override
        public int outputThreads() {
            return concurrency;
        }
    }

    record Batch(int size, Duration maxWait) implements Operator {
        @Override
        public boolean hasFunction() {
            return false;
        }

        @Override
        public int itemsPerOutputElement() {
            return size;
        }
    }

    record Take(long limit) implements Operator {
        @Override
        public boolean hasFunction() {
            return false;
        }
    }

    /** {@code via}: a user's stage body, which owns its items (so no error policy applies). */
    record Custom(dev.sluice.pipeline.Stage<Object, Object> body) implements Operator {
        @Override
        public boolean hasFunction() {
            return false;
        }
    }

    record ToSink(SinkLogic<Object, ?> logic) implements Operator {
        @Override
        public int outputThreads() {
            return 0;
        }
    }
}
