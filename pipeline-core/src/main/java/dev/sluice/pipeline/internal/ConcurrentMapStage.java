package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.ChannelClosedException;
import dev.sluice.pipeline.ChannelFailedException;
import dev.sluice.pipeline.CheckedFunction;
import dev.sluice.pipeline.Overflow;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code mapConcurrent(n, fn)}: the threads of one concurrent stage.
 *
 * <p><b>Unordered:</b> n workers take items straight from the input link (a multi-consumer link) and send each
 * result as soon as it is ready into the output link (multi-producer). The last worker to finish closes the
 * output.
 *
 * <p><b>Ordered:</b> a dispatcher takes items in input order and wraps each in a {@link Cell}; it puts the cell
 * first into {@code pending} and then into {@code work}. Workers take cells from {@code work} and complete them. An
 * emitter takes cells from {@code pending} in order, two at a time when two are there ({@link #EMITTER_GROUP}),
 * waits for each to complete and sends its result on. {@code pending} holds the reorder window (2n) less one cell,
 * so the stage holds the window, or the window and one cell while the emitter's pair is taken: the stage stops
 * taking input once the window is full, and a slow item holds back only the results behind it, whatever the call
 * times. Room in a full {@code pending} frees a pair of slots at a time, so a dispatcher waiting on a full window
 * is woken at most once for every two cells the emitter takes.
 */
final class ConcurrentMapStage {

    private ConcurrentMapStage() {}

    /** The stage's thread bodies, each with a readable role for its thread name. */
    static List<Role> roles(RunningStage stage, Operator.ConcurrentMap op) {
        List<Role> roles = new ArrayList<>();
        if (!op.ordered()) {
            AtomicInteger running = new AtomicInteger(op.concurrency());
            for (int i = 0; i < op.concurrency(); i++) {
                roles.add(new Role("worker-" + (i + 1), new UnorderedWorker(stage, op.fn(), running)));
            }
            return roles;
        }
        BoundedChannel<Cell> pending = BoundedChannel.create(op.window() - 1, Overflow.BLOCK, null, ChannelShape.SPSC);
        BoundedChannel<Cell> work = BoundedChannel.create(op.window(), Overflow.BLOCK, null, ChannelShape.SPMC);
        stage.internalChannels.add(pending);
        stage.internalChannels.add(work);
        roles.add(new Role("dispatcher", new Dispatcher(stage, pending, work)));
        for (int i = 0; i < op.concurrency(); i++) {
            roles.add(new Role("worker-" + (i + 1), new OrderedWorker(stage, op.fn(), work)));
        }
        roles.add(new Role("emitter", new OrderEmitter(stage, pending)));
        return roles;
    }

    /**
     * The most cells the emitter of an ordered stage takes from {@code pending} at once. With {@code pending} one
     * cell short of the window, the cells in flight are the window, or the window and one.
     */
    static final int EMITTER_GROUP = 2;

    record Role(String name, Callable<Object> body) {}

    /** One item in flight in an ordered stage. */
    static final class Cell {
        final Object input;
        Object result; // written before the volatile state that publishes it
        private volatile int state; // PENDING, DONE, SKIPPED
        private volatile Thread waiter;

        static final int PENDING = 0;
        static final int DONE = 1;
        static final int SKIPPED = 2;

        Cell(Object input) {
            this.input = input;
        }

        void complete(Object value, int outcome) {
            result = value;
            state = outcome; // volatile write, then volatile read of waiter: with await()'s mirror image, no lost
            // wake-up
            Thread w = waiter;
            if (w != null) {
                LockSupport.unpark(w);
            }
        }

        /** Waits until completed; returns DONE or SKIPPED. */
        int await() throws InterruptedException {
            int s = state;
            if (s != PENDING) {
                return s;
            }
            waiter = Thread.currentThread();
            while ((s = state) == PENDING) {
                LockSupport.park(this);
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
            }
            return s;
        }
    }

    private static final class Dispatcher extends StageLoop {
        private final BoundedChannel<Cell> pending;
        private final BoundedChannel<Cell> work;

        Dispatcher(RunningStage stage, BoundedChannel<Cell> pending, BoundedChannel<Cell> work) {
            super(stage);
            this.pending = pending;
            this.work = work;
        }

        @Override
        public Object call() throws Exception {
            int max = stage.transferBatch(stage.input);
            List<Object> group = new ArrayList<>(max);
            while (receiveGroup(group, max) >= 0) {
                for (Object item : group) {
                    Cell cell = new Cell(item);
                    pending.send(cell); // waits while the reorder window is full
                    work.send(cell);
                }
                group.clear();
            }
            work.close();
            pending.close();
            return null;
        }
    }

    private static final class OrderedWorker extends StageLoop {
        private final CheckedFunction<Object, Object> fn;
        private final BoundedChannel<Cell> work;

        OrderedWorker(RunningStage stage, CheckedFunction<Object, Object> fn, BoundedChannel<Cell> work) {
            super(stage);
            this.fn = fn;
            this.work = work;
        }

        @Override
        public Object call() throws Exception {
            for (; ; ) {
                Cell cell;
                try {
                    cell = work.receive();
                } catch (ChannelFailedException e) {
                    throw e;
                } catch (ChannelClosedException end) {
                    return null;
                }
                Object result;
                try {
                    result = result(fn.apply(Tracked.valueOf(cell.input)));
                } catch (Exception e) {
                    onItemError(cell.input, e);
                    cell.complete(null, Cell.SKIPPED);
                    continue;
                }
                cell.complete(carry(cell.input, result), Cell.DONE);
            }
        }
    }

    private static final class OrderEmitter extends StageLoop {
        private final BoundedChannel<Cell> pending;
        /** Cells taken from {@code pending} and not yet emitted, in input order. */
        private final ArrayDeque<Cell> group = new ArrayDeque<>(EMITTER_GROUP);

        OrderEmitter(RunningStage stage, BoundedChannel<Cell> pending) {
            super(stage);
            this.pending = pending;
        }

        @Override
        public Object call() throws Exception {
            for (; ; ) {
                if (group.isEmpty()) {
                    try {
                        if (pending.drainTo(group, EMITTER_GROUP) == 0) {
                            flush(); // nothing ready to add: do not hold results back while waiting
                            pending.receiveMany(group, EMITTER_GROUP);
                        }
                    } catch (ChannelFailedException e) {
                        throw e;
                    } catch (ChannelClosedException end) {
                        break;
                    }
                }
                Cell cell = group.pollFirst();
                if (cell.state == Cell.PENDING) {
                    flush();
                }
                if (cell.await() == Cell.DONE) {
                    forward(cell.result);
                }
            }
            complete();
            return null;
        }
    }

    private static final class UnorderedWorker extends StageLoop {
        private final CheckedFunction<Object, Object> fn;
        private final AtomicInteger running;

        UnorderedWorker(RunningStage stage, CheckedFunction<Object, Object> fn, AtomicInteger running) {
            super(stage);
            this.fn = fn;
            this.running = running;
        }

        @Override
        public Object call() throws Exception {
            for (; ; ) {
                Object item;
                try {
                    item = stage.input.receive();
                } catch (ChannelFailedException e) {
                    throw e;
                } catch (ChannelClosedException end) {
                    break;
                }
                counters.addIn(weight(item));
                Object result;
                try {
                    result = result(fn.apply(Tracked.valueOf(item)));
                } catch (Exception e) {
                    onItemError(item, e);
                    continue;
                }
                sendNow(carry(item, result));
            }
            if (running.decrementAndGet() == 0) {
                stage.output.close();
            }
            return null;
        }
    }
}
