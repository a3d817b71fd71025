package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.ChannelClosedException;
import dev.sluice.pipeline.ChannelFailedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** {@code batch(size, maxWait)}: lists of up to {@code size}, sent at most {@code maxWait} after their first item. */
final class BatchLoop extends StageLoop {
    private final int size;
    private final long maxWaitNanos;

    BatchLoop(RunningStage stage, Operator.Batch op) {
        super(stage);
        this.size = op.size();
        this.maxWaitNanos = op.maxWait().toNanos();
    }

    @Override
    public Object call() throws Exception {
        List<Object> batch = new ArrayList<>(size);
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
                    items += counted(batch.get(i));
                }
                if (batch.size() < size) {
                    long remaining = deadline - System.nanoTime();
                    Object next = remaining > 0 ? stage.input.receive(Duration.ofNanos(remaining)) : null;
                    if (next != null) {
                        items += take(batch, next);
                        continue;
                    }
                }
                sendBatch(batch, items);
                batch = new ArrayList<>(size);
                items = 0;
            }
        } catch (ChannelFailedException e) {
            throw e;
        } catch (ChannelClosedException end) {
            if (!batch.isEmpty()) {
                sendBatch(batch, items);
            }
        }
        complete();
        return null;
    }

    private long take(List<Object> batch, Object element) {
        batch.add(element);
        return counted(element);
    }

    /** Counts an element taken in: its weight, in the stage's input counter and the batch's size. */
    private long counted(Object element) {
        long w = weight(element);
        counters.addIn(w);
        return w;
    }
}
