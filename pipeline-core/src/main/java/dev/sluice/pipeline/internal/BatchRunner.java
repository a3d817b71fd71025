package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.ChannelClosedException;
import dev.sluice.pipeline.ChannelFailedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** {@code batch(size, maxWait)}: lists of up to {@code size}, sent at most {@code maxWait} after their first item. */
final class BatchRunner extends StageRunner {
    private final int size;
    private final long maxWaitNanos;

    BatchRunner(StageRuntime stage, Operator.Batch op) {
        super(stage);
        this.size = op.size();
        this.maxWaitNanos = op.maxWait().toNanos();
    }

    @Override
    public Object call() throws Exception {
        List<Object> batch = new ArrayList<>(size);
        long deadline = 0L;
        try {
            for (;;) {
                if (batch.isEmpty()) {
                    batch.add(stage.input.receive());
                    counters.addIn(1);
                    deadline = System.nanoTime() + maxWaitNanos;
                }
                int drained = stage.input.drainTo(batch, size - batch.size());
                counters.addIn(drained);
                if (batch.size() < size) {
                    long remaining = deadline - System.nanoTime();
                    Object next = remaining > 0 ? stage.input.receive(Duration.ofNanos(remaining)) : null;
                    if (next != null) {
                        batch.add(next);
                        counters.addIn(1);
                        continue;
                    }
                }
                sendNow(batch);
                batch = new ArrayList<>(size);
            }
        } catch (ChannelFailedException e) {
            throw e;
        } catch (ChannelClosedException end) {
            if (!batch.isEmpty()) {
                sendNow(batch);
            }
        }
        complete();
        return null;
    }
}
