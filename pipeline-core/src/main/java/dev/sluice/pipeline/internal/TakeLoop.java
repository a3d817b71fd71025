package dev.sluice.pipeline.internal;

import java.util.ArrayList;
import java.util.List;

/** {@code take(limit)}: passes on the first items, then finishes the stages before it. */
final class TakeLoop extends StageLoop {
    private final long limit;

    TakeLoop(RunningStage stage, Operator.Take op) {
        super(stage);
        this.limit = op.limit();
    }

    @Override
    public Object call() throws Exception {
        long left = limit;
        if (left > 0) {
            int max = (int) Math.min(stage.transferBatch(stage.input), left);
            List<Object> group = new ArrayList<>(max);
            while (left > 0 && receiveGroup(group, (int) Math.min(max, left)) >= 0) {
                for (Object item : group) {
                    forward(item);
                }
                left -= group.size();
                group.clear();
                flush();
            }
        }
        if (left == 0) {
            stage.run.finishUpstreamOf(stage.index);
        }
        complete();
        return null;
    }
}
