package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.Disposition;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/** The last stage: opens the sink for this run, feeds it, and returns its value. */
final class SinkLoop extends StageLoop {
    private final SinkLogic<Object, ?> logic;
    private volatile SinkLogic.State<Object, ?> state;
    /** A group's values and the references of its tracked elements, when the sink takes groups. Sink thread only. */
    private final List<Object> groupValues = new ArrayList<>();

    private final List<ItemAck> groupAcks = new ArrayList<>();

    /**
     * The items accepted but not yet confirmed by the sink ({@link SinkLogic.State#unconfirmed()}), oldest first: the
     * reference of a tracked one, {@link #UNTRACKED} for the others. Sink thread only.
     */
    private final ArrayDeque<Object> unconfirmed = new ArrayDeque<>();

    private static final Object UNTRACKED = new Object();

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
            Object value = sink.finish();
            confirm(0);
            return value;
        } catch (Throwable t) {
            try {
                sink.abort(stage.run.abortCauseOr(t));
            } catch (Throwable inAbort) {
                t.addSuppressed(inAbort);
            }
            throw t;
        }
    }

    /**
     * Feeds the sink one item at a time. A tracked item is acknowledged as processed once the sink has returned
     * from it and does not count it as {@linkplain SinkLogic.State#unconfirmed() unconfirmed}; one the sink refused
     * ({@code accept} returned false), or still unconfirmed when the run ends without the sink's finish, is left to
     * the run's end, which releases it.
     */
    private boolean acceptEach(SinkLogic.State<Object, ?> sink, List<Object> group) throws Exception {
        for (int i = 0, n = group.size(); i < n; i++) {
            Object element = group.get(i);
            try {
                if (!sink.accept(Tracked.valueOf(element))) {
                    return false;
                }
            } catch (Exception e) {
                onItemError(element, e);
                confirm(sink.unconfirmed());
                continue;
            }
            int pending = sink.unconfirmed();
            if (pending == 0 && unconfirmed.isEmpty()) {
                Tracked.release(element, Disposition.PROCESSED);
            } else {
                unconfirmed.addLast(element instanceof Tracked t ? t.ack : UNTRACKED);
                confirm(pending);
            }
        }
        return true;
    }

    /** Acknowledges as processed the oldest unconfirmed items until only {@code pending} are left. */
    private void confirm(int pending) {
        while (unconfirmed.size() > Math.max(0, pending)) {
            if (unconfirmed.pollFirst() instanceof ItemAck ack) {
                ack.release(Disposition.PROCESSED);
            }
        }
    }

    /**
     * Feeds the sink a group. If any element is tracked, the sink gets their values in a list of its own, and every
     * tracked element is acknowledged once the sink has returned from the group (or by the error policy).
     */
    private boolean acceptGroup(SinkLogic.State<Object, ?> sink, List<Object> group) throws Exception {
        List<Object> items = group;
        for (int i = 0, n = group.size(); i < n; i++) {
            if (group.get(i) instanceof Tracked) {
                items = unwrapGroup(group);
                break;
            }
        }
        boolean more;
        try {
            more = sink.acceptGroup(items);
        } catch (Exception e) {
            long count = 0;
            for (Object element : group) {
                count += weight(element);
            }
            onItemError(
                    List.copyOf(items), items == group ? null : new ItemAck.Group(List.copyOf(groupAcks)), e, count);
            return true;
        }
        if (items != group && more) {
            for (ItemAck ack : groupAcks) {
                ack.release(Disposition.PROCESSED);
            }
        }
        return more;
    }

    /** The values of a group with tracked elements, in {@link #groupValues}; their references in {@link #groupAcks}. */
    private List<Object> unwrapGroup(List<Object> group) {
        groupValues.clear();
        groupAcks.clear();
        for (Object element : group) {
            if (element instanceof Tracked t) {
                groupValues.add(t.value);
                groupAcks.add(t.ack);
            } else {
                groupValues.add(element);
            }
        }
        return groupValues;
    }

    /** Whether the sink was opened in this run (else it may owe its consumer a signal). */
    boolean opened() {
        return state != null;
    }
}
