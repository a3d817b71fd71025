package dev.sluice.pipeline.internal;

import java.util.ArrayList;
import java.util.List;

/** The last stage: opens the sink for this run, feeds it, and returns its value. */
final class SinkLoop extends StageLoop {
    private final SinkLogic<Object, ?> logic;
    private volatile SinkLogic.State<Object, ?> state;

    SinkLoop(RunningStage stage, SinkLogic<Object, ?> logic) {
        super(stage);
        this.logic = logic;
    }

    @Override
    public Object call() throws Exception {
        SinkLogic.State<Object, ?> sink = logic.open(stage.context);
        state = sink;
        try {
            int groupSize = sink.groupSize();
            int max = groupSize > 0 ? groupSize : stage.transferBatch(stage.input);
            List<Object> group = new ArrayList<>(max);
            boolean more = true;
            while (more && !sink.finishedEarly()) {
                int n;
                try {
                    n = receiveGroup(group, max);
                } catch (InterruptedException e) {
                    if (!sink.finishedEarly() || stage.run.isAborting()) {
                        throw e;
                    }
                    break; // the sink's consumer gave up while we waited for input: finish early
                }
                if (n < 0) {
                    break;
                }
                more = groupSize > 0 ? acceptGroup(sink, group) : acceptEach(sink, group);
                group.clear();
            }
            if (!more || sink.finishedEarly()) {
                Thread.interrupted(); // the consumer's own signal, not a cancellation of the run
                stage.run.finishUpstreamOf(stage.index);
            }
            return sink.finish();
        } catch (Throwable t) {
            try {
                sink.abort(stage.run.abortCauseOr(t));
            } catch (Throwable inAbort) {
                t.addSuppressed(inAbort);
            }
            throw t;
        }
    }

    private boolean acceptEach(SinkLogic.State<Object, ?> sink, List<Object> group) throws Exception {
        for (int i = 0, n = group.size(); i < n; i++) {
            Object item = group.get(i);
            try {
                if (!sink.accept(item)) {
                    return false;
                }
            } catch (Exception e) {
                onItemError(item, e);
            }
        }
        return true;
    }

    private boolean acceptGroup(SinkLogic.State<Object, ?> sink, List<Object> group) throws Exception {
        try {
            return sink.acceptGroup(group);
        } catch (Exception e) {
            long items = 0;
            for (Object element : group) {
                items += weight(element);
            }
            onItemError(List.copyOf(group), e, items);
            return true;
        }
    }

    /** Whether the sink was opened in this run (else it may owe its consumer a signal). */
    boolean opened() {
        return state != null;
    }
}
