package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.Disposition;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** map, filter, flatMap and peek: one thread, one function, items in order. */
final class TransformLoop extends StageLoop {
    private final Operator op;

    TransformLoop(RunningStage stage) {
        super(stage);
        this.op = stage.spec.operator();
    }

    @Override
    public Object call() throws Exception {
        int max = stage.transferBatch(stage.input);
        List<Object> group = new ArrayList<>(max);
        while (receiveGroup(group, max) >= 0) {
            for (int i = 0, n = group.size(); i < n; i++) {
                if (abandoned()) {
                    throw new InterruptedException();
                }
                process(group.get(i));
            }
            group.clear();
            flush();
        }
        complete();
        return null;
    }

    /** Processes one input element: the item itself, or a {@link Tracked} envelope whose value the function sees. */
    private void process(Object element) throws Exception {
        Object item = Tracked.valueOf(element);
        switch (op) {
            case Operator.Map map -> {
                Object result;
                try {
                    result = result(map.fn().apply(item));
                } catch (Exception e) {
                    onItemError(element, e);
                    return;
                }
                forward(carry(element, result));
            }
            case Operator.Filter filter -> {
                boolean keep;
                try {
                    keep = filter.predicate().test(item);
                } catch (Exception e) {
                    onItemError(element, e);
                    return;
                }
                if (keep) {
                    forward(element);
                } else {
                    Tracked.release(element, Disposition.FILTERED);
                }
            }
            case Operator.Peek peek -> {
                try {
                    peek.action().accept(item);
                } catch (Exception e) {
                    onItemError(element, e);
                    return;
                }
                forward(element);
            }
            case Operator.FlatMap flatMap -> {
                // Errors while computing or iterating the expansion count against this item (results before the
                // error have gone on); errors while sending are the link's, not the function's.
                Iterator<?> results;
                try {
                    Iterable<?> expansion = flatMap.fn().apply(item);
                    if (expansion == null) {
                        throw new NullPointerException("the flatMap function returned null instead of an Iterable");
                    }
                    results = expansion.iterator();
                } catch (Exception e) {
                    onItemError(element, e);
                    return;
                }
                // A tracked item: each child holds a reference of its own, taken before it is sent; the item's
                // own reference is released last, neutrally (FILTERED is the least severe), so that the item is
                // acknowledged when its last child is, or as FILTERED if it had none.
                ItemAck ack = element instanceof Tracked t ? t.ack : null;
                for (; ; ) {
                    Object next;
                    try {
                        if (!results.hasNext()) {
                            break;
                        }
                        next = results.next();
                    } catch (Exception e) {
                        onItemError(element, e);
                        return;
                    }
                    if (ack == null) {
                        forward(next);
                    } else {
                        ack.retain();
                        forward(carry(new Tracked(null, ack), next));
                    }
                }
                if (ack != null) {
                    ack.release(Disposition.FILTERED);
                }
            }
            default -> throw new IllegalStateException("not a transform: " + op);
        }
    }
}
