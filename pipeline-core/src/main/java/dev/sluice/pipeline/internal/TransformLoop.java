package dev.sluice.pipeline.internal;

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
                process(group.get(i));
            }
            group.clear();
            flush();
        }
        complete();
        return null;
    }

    private void process(Object item) throws Exception {
        switch (op) {
            case Operator.Map map -> {
                Object result;
                try {
                    result = map.fn().apply(item);
                } catch (Exception e) {
                    onItemError(item, e);
                    return;
                }
                forward(result);
            }
            case Operator.Filter filter -> {
                boolean keep;
                try {
                    keep = filter.predicate().test(item);
                } catch (Exception e) {
                    onItemError(item, e);
                    return;
                }
                if (keep) {
                    forward(item);
                }
            }
            case Operator.Peek peek -> {
                try {
                    peek.action().accept(item);
                } catch (Exception e) {
                    onItemError(item, e);
                    return;
                }
                forward(item);
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
                    onItemError(item, e);
                    return;
                }
                for (; ; ) {
                    Object next;
                    try {
                        if (!results.hasNext()) {
                            break;
                        }
                        next = results.next();
                    } catch (Exception e) {
                        onItemError(item, e);
                        return;
                    }
                    forward(next);
                }
            }
            default -> throw new IllegalStateException("not a transform: " + op);
        }
    }
}
