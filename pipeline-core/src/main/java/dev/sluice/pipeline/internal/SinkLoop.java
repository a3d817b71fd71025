package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.Disposition;
import dev.sluice.pipeline.ErrorPolicy;
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
     * element itself where the error policy may need it ({@link #keepsElements}), else the reference of a tracked one
     * and {@link #UNTRACKED} for the others. Sink thread only.
     */
    private final ArrayDeque<Object> unconfirmed = new ArrayDeque<>();

    private static final Object UNTRACKED = new Object();

    /**
     * Whether {@link #unconfirmed} holds the elements: a dead-letter policy hands over the value of an unconfirmed
     * item lost with a failed write, and a batch's weight is counted as the items it holds.
     */
    private final boolean keepsElements;

    SinkLoop(RunningStage stage, SinkLogic<Object, ?> logic) {
        super(stage);
        this.logic = logic;
        this.keepsElements = stage.spec.errorPolicy() instanceof ErrorPolicy.ToDeadLetter || stage.inputCarriesBatches;
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
            stage.run.sinkCompleted();
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
            if (abandoned()) {
                throw new InterruptedException();
            }
            Object element = group.get(i);
            try {
                if (!sink.accept(Tracked.valueOf(element))) {
                    return false;
                }
            } catch (Exception e) {
                shareError(sink.unconfirmed(), e);
                onItemError(element, e);
                continue;
            }
            int pending = sink.unconfirmed();
            if (pending == 0 && unconfirmed.isEmpty()) {
                Tracked.release(element, Disposition.PROCESSED);
            } else {
                unconfirmed.addLast(keepsElements ? element : element instanceof Tracked t ? t.ack : UNTRACKED);
                confirm(pending);
            }
        }
        return true;
    }

    /** Acknowledges as processed the oldest unconfirmed items until only {@code pending} are left. */
    private void confirm(int pending) {
        while (unconfirmed.size() > Math.max(0, pending)) {
            Object entry = unconfirmed.pollFirst();
            if (entry instanceof ItemAck ack) {
                ack.release(Disposition.PROCESSED);
            } else {
                Tracked.release(entry, Disposition.PROCESSED);
            }
        }
    }

    /**
     * After a write that threw: the items written before it that the sink no longer counts as unconfirmed (down to
     * {@code pending}) went down with it, and share its error, oldest first, under a policy that goes on (skip, dead
     * letter). Under the fail policy they are left unconfirmed, and the run's end releases them; so are they when the
     * error is a cancellation's, which {@link #onItemError} rethrows at the first of them.
     */
    private void shareError(int pending, Exception error) throws Exception {
        if (stage.spec.errorPolicy() instanceof ErrorPolicy.Fail) {
            return;
        }
        while (unconfirmed.size() > Math.max(0, pending)) {
            Object entry = unconfirmed.pollFirst();
            if (entry instanceof ItemAck ack) {
                onItemError(null, ack, error, 1);
            } else if (entry == UNTRACKED) {
                onItemError(null, null, error, 1);
            } else {
                onItemError(entry, error);
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
