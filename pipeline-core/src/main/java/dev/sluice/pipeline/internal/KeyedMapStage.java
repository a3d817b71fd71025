package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.ChannelClosedException;
import dev.sluice.pipeline.ChannelFailedException;
import dev.sluice.pipeline.CheckedFunction;
import dev.sluice.pipeline.Overflow;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code mapConcurrentByKey(n, window, keyFn, fn)}: the threads of one per-key ordered concurrent stage.
 *
 * <p>A dispatcher takes items in input order, computes each one's key, takes one of {@code window} permits (the
 * stage's memory bound: items taken in and not yet passed on), waiting while none is free, and appends the item to
 * its key's queue. A key with queued items is <em>active</em>; an active key is either waiting in {@code ready} or
 * being processed by exactly one worker, never both, so the items of a key are processed one at a time, in input
 * order, and each result is sent on before the key's next item starts. n workers take active keys from
 * {@code ready}, process the head item, send its result, return the permit, and put the key back at the tail of
 * {@code ready} if it has more items (so that keys take turns) or retire it.
 *
 * <p>A dispatcher waiting for a permit is woken once {@link Keys#wakeAt} permits are free, or as soon as one is free
 * while a worker waits for a key: so it hands items over a group at a time while every worker is busy, and no worker
 * waits for work while the dispatcher could hand it some (a window held by a slow key still fills to its last
 * permit).
 *
 * <p>Invariants: every active key holds at least one item, and every item held holds a permit, so at most
 * {@code window} keys are active and {@code ready} (capacity {@code window}) never makes a worker wait. A slow key
 * holds back the other keys only once the window is full of its items: then the dispatcher waits for a permit.
 * At the end of its input the dispatcher waits for every permit to be free (all results sent), then ends the
 * workers and closes the output.
 */
final class KeyedMapStage {

    private KeyedMapStage() {}

    static List<ConcurrentMapStage.Role> roles(RunningStage stage, Operator.KeyedMap op) {
        Keys keys = new Keys(op.window());
        BoundedChannel<KeyQueue> ready = BoundedChannel.create(op.window(), Overflow.BLOCK, null, ChannelShape.MPMC);
        stage.internalChannels.add(ready);
        List<ConcurrentMapStage.Role> roles = new ArrayList<>();
        roles.add(new ConcurrentMapStage.Role("dispatcher", new Dispatcher(stage, op, keys, ready)));
        for (int i = 0; i < op.concurrency(); i++) {
            roles.add(new ConcurrentMapStage.Role("worker-" + (i + 1), new Worker(stage, op.fn(), keys, ready)));
        }
        return roles;
    }

    /** The queued items of one active key, in input order; the head is the one being processed or next. */
    static final class KeyQueue {
        final Key key;
        final ArrayDeque<Object> items = new ArrayDeque<>(); // guarded by Keys.lock

        KeyQueue(Key key) {
            this.key = key;
        }
    }

    /**
     * An item's key with its hash code, computed once, on the dispatcher, before the keys' lock is taken: a hashCode
     * that throws is that item's error. The user's {@code equals} runs under the lock only while an item is admitted
     * (against active keys of the same hash code); a key being retired is the instance its queue was put with, and
     * compares by identity, so retiring never runs the user's code.
     */
    static final class Key {
        final Object value;
        private final int hash;
        /** Set, under the keys' lock, just before this key leaves the active keys: it then equals only itself. */
        boolean retiring;

        Key(Object value) {
            this.value = value;
            this.hash = value.hashCode();
        }

        @Override
        public boolean equals(Object o) {
            if (o == this) {
                return true;
            }
            return !retiring && o instanceof Key k && hash == k.hash && value.equals(k.value);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** The active keys and the window's permits, shared by the stage's threads. */
    static final class Keys {
        final ReentrantLock lock = new ReentrantLock();
        final Map<Key, KeyQueue> active = new HashMap<>(); // guarded by lock
        final int window;
        /**
         * Free permits at which a waiting dispatcher is woken while the workers have work; at most {@code window}, so
         * the last permit returned wakes a dispatcher waiting for all of them.
         */
        final int wakeAt;

        private final Condition permitsFreed = lock.newCondition();
        private int free; // guarded by lock: permits no item holds
        private int idleWorkers; // guarded by lock: workers waiting for a key in ready
        private int wanted; // guarded by lock: the free permits the dispatcher waits for; 0 while it does not wait

        Keys(int window) {
            this.window = window;
            this.wakeAt = Math.max(1, window / 4);
            this.free = window;
        }

        /**
         * Takes a permit, waiting while none is free, and queues {@code element} behind its key.
         *
         * @return the key's queue if this made the key active (the caller hands it to the workers), else null
         * @throws RuntimeException what the key's {@code equals} threw; the permit is given back, nothing is queued
         */
        KeyQueue admit(Key key, Object element) throws InterruptedException {
            lock.lock();
            try {
                takePermit();
                int before = active.size();
                KeyQueue queue;
                try {
                    queue = active.computeIfAbsent(key, KeyQueue::new);
                } catch (RuntimeException e) {
                    returnPermit(); // the map is unchanged: HashMap compares keys before it changes anything
                    throw e;
                }
                queue.items.addLast(element);
                return active.size() > before ? queue : null;
            } finally {
                lock.unlock();
            }
        }

        /** Takes a permit, waiting while none is free. The caller holds {@link #lock}. */
        void takePermit() throws InterruptedException {
            awaitFree(1);
            free--;
        }

        /** Waits until every permit is free: every item taken in has been passed on. The caller holds the lock. */
        void awaitAllFree() throws InterruptedException {
            awaitFree(window);
        }

        private void awaitFree(int permits) throws InterruptedException {
            while (free < permits) {
                wanted = permits;
                try {
                    permitsFreed.await();
                } finally {
                    wanted = 0;
                }
            }
        }

        /**
         * Returns an item's permit. A waiting dispatcher is woken once it has what it waits for and either a group
         * of permits is free or a worker waits for work. The caller holds the lock.
         */
        void returnPermit() {
            free++;
            if (wanted != 0 && free >= wanted && (free >= wakeAt || idleWorkers > 0)) {
                permitsFreed.signal();
            }
        }

        /**
         * A worker found {@code ready} empty and is about to wait for a key: it counts as idle until {@link
         * #workerBusy()}, and a waiting dispatcher that can take a permit is woken to hand it work.
         */
        void workerIdle() {
            lock.lock();
            try {
                idleWorkers++;
                if (wanted != 0 && free >= wanted) {
                    permitsFreed.signal();
                }
            } finally {
                lock.unlock();
            }
        }

        /** The worker that called {@link #workerIdle()} has stopped waiting (it took a key, or the stage ended). */
        void workerBusy() {
            lock.lock();
            try {
                idleWorkers--;
            } finally {
                lock.unlock();
            }
        }
    }

    private static final class Dispatcher extends StageLoop {
        private final CheckedFunction<Object, ?> keyFn;
        private final Keys keys;
        private final BoundedChannel<KeyQueue> ready;

        Dispatcher(RunningStage stage, Operator.KeyedMap op, Keys keys, BoundedChannel<KeyQueue> ready) {
            super(stage);
            this.keyFn = op.keyFn();
            this.keys = keys;
            this.ready = ready;
        }

        @Override
        public Object call() throws Exception {
            int max = stage.transferBatch(stage.input);
            List<Object> group = new ArrayList<>(max);
            while (receiveGroup(group, max) >= 0) {
                for (Object element : group) {
                    dispatch(element);
                }
                group.clear();
            }
            keys.lock.lock();
            try {
                keys.awaitAllFree(); // every item taken in has been passed on
            } finally {
                keys.lock.unlock();
            }
            ready.close();
            stage.output.close();
            return null;
        }

        private void dispatch(Object element) throws Exception {
            Key key;
            try {
                Object value = keyFn.apply(Tracked.valueOf(element));
                if (value == null) {
                    throw new NullPointerException("the key function of stage '" + stage.name() + "' returned null");
                }
                key = new Key(value); // the key's hashCode runs here
            } catch (Exception e) {
                onItemError(element, e);
                return;
            }
            KeyQueue activated;
            try {
                activated = keys.admit(key, element); // waits while the window is full
            } catch (RuntimeException e) {
                onItemError(element, e); // the key's equals failed; its permit is free again
                return;
            }
            if (activated != null) {
                ready.send(activated); // never waits: at most `window` keys are active
            }
        }
    }

    private static final class Worker extends StageLoop {
        private final CheckedFunction<Object, Object> fn;
        private final Keys keys;
        private final BoundedChannel<KeyQueue> ready;

        Worker(RunningStage stage, CheckedFunction<Object, Object> fn, Keys keys, BoundedChannel<KeyQueue> ready) {
            super(stage);
            this.fn = fn;
            this.keys = keys;
            this.ready = ready;
        }

        @Override
        public Object call() throws Exception {
            for (; ; ) {
                KeyQueue queue;
                try {
                    queue = ready.tryReceive();
                    if (queue == null) {
                        keys.workerIdle();
                        try {
                            queue = ready.receive();
                        } finally {
                            keys.workerBusy();
                        }
                    }
                } catch (ChannelFailedException e) {
                    throw e;
                } catch (ChannelClosedException end) {
                    return null;
                }
                Object element;
                keys.lock.lock();
                try {
                    element = queue.items.peekFirst();
                } finally {
                    keys.lock.unlock();
                }
                process(element);
                boolean more;
                keys.lock.lock();
                try {
                    queue.items.pollFirst();
                    more = !queue.items.isEmpty();
                    if (!more) {
                        queue.key.retiring = true; // found by identity: no user code runs here
                        keys.active.remove(queue.key);
                    }
                    keys.returnPermit();
                } finally {
                    keys.lock.unlock();
                }
                if (more) {
                    ready.send(queue); // never waits (see the class comment); the key takes its turn again
                }
            }
        }

        private void process(Object element) throws Exception {
            Object result;
            try {
                result = result(fn.apply(Tracked.valueOf(element)));
            } catch (Exception e) {
                onItemError(element, e);
                return;
            }
            sendNow(carry(element, result));
        }
    }
}
