package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.ChannelClosedException;
import dev.sluice.pipeline.ChannelFailedException;
import dev.sluice.pipeline.internal.check.Nanos;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** {@code batch(size, maxWait)}: lists of up to {@code size}, sent at most {@code maxWait} after their first item. */
final class BatchLoop extends StageLoop {
    private final int size;
    private final long maxWaitNanos;
    /** The references of the tracked items in the batch being filled; null while it holds none. */
    private List<ItemAck> acks;

    BatchLoop(RunningStage stage, Operator.Batch op) {
        super(stage);
        this.size = op.size();
        this.maxWaitNanos = Nanos.saturated(op.maxWait());
    }

    @Override
    public Object call() throws Exception {
        List<Object> batch = new ArrayList<>(size);
        acks = null;
        long items = 0; // what the batch stands for: its size, unless its elements are batches themselves
        long deadline = 0L;
        try {
            for (; ; ) {
                if (batch.isEmpty()) {
                    items += take(batch, stage.input.receive());
                    deadline = System.nanoTime() + maxWaitNanos;
                }
                int before = batch.size();
                stage.input.drainTo(batch, size - batch.size());
                for (int i = before; i < batch.size(); i++) {
                    Object element = batch.get(i);
                    items += counted(element);
                    if (element instanceof Tracked t) {
                        batch.set(i, t.value);
                        ack(t);
                    }
                }
                if (batch.size() < size) {
                    long remaining = deadline - System.nanoTime();
                    Object next = remaining > 0 ? stage.input.receive(Duration.ofNanos(remaining)) : null;
                    if (next != null) {
                        items += take(batch, next);
                        continue;
                    }
                }
                sendBatch(outgoing(batch), items);
                batch = new ArrayList<>(size);
                items = 0;
            }
        } catch (ChannelFailedException e) {
            throw e;
        } catch (ChannelClosedException end) {
            if (!batch.isEmpty()) {
                sendBatch(outgoing(batch), items);
            }
        }
        complete();
        return null;
    }

    private long take(List<Object> batch, Object element) {
        long w = counted(element);
        if (element instanceof Tracked t) {
            batch.add(t.value);
            ack(t);
        } else {
            batch.add(element);
        }
        return w;
    }

    /** Keeps the reference of a tracked element that joined the batch. */
    private void ack(Tracked t) {
        if (acks == null) {
            acks = new ArrayList<>();
        }
        acks.add(t.ack);
    }

    /**
     * What to send for a full batch: the list itself, or, if any of its items is tracked, an envelope that holds
     * their references, so that they are acknowledged together once the sink returns from the batch.
     */
    private Object outgoing(List<Object> batch) {
        if (acks == null) {
            return batch;
        }
        ItemAck ack = acks.size() == 1 ? acks.get(0) : new ItemAck.Group(acks);
        acks = null;
        return new Tracked(batch, ack);
    }

    /** Counts an element taken in: its weight, in the stage's input counter and the batch's size. */
    private long counted(Object element) {
        long w = weight(element);
        counters.addIn(w);
        return w;
    }
}
