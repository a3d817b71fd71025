package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.ChannelClosedException;
import dev.sluice.pipeline.ChannelFailedException;
import dev.sluice.pipeline.Disposition;
import dev.sluice.pipeline.Emitter;
import dev.sluice.pipeline.Stage;
import dev.sluice.pipeline.StageContext;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a user's {@link Stage}: its input is read in groups and handed out one item at a time, and what it emits
 * is sent on at once (the body may emit from a thread of its own, so nothing is held back waiting for a flush).
 * The input is read by one thread at a time and the output written by one thread at a time (the contract of
 * {@link Stage}), so each counter keeps a single writer; {@code ended} is read by the stage's thread after the body
 * returned, which joined any thread it handed the input to.
 */
final class CustomStageLoop extends StageLoop implements Stage.Input<Object>, Emitter<Object> {
    private final Stage<Object, Object> body;
    private final ArrayDeque<Object> pending = new ArrayDeque<>();
    private final List<Object> group = new ArrayList<>();
    private boolean ended;

    CustomStageLoop(RunningStage stage, Stage<Object, Object> body) {
        super(stage);
        this.body = body;
    }

    @Override
    public Object call() throws Exception {
        body.run(this, this);
        if (!ended) {
            stage.run.finishUpstreamOf(stage.index);
        }
        complete();
        return null;
    }

    @Override
    public Object receive() throws InterruptedException {
        if (!pending.isEmpty()) {
            return pending.poll();
        }
        if (ended) {
            return null;
        }
        if (receiveGroup(group, stage.transferBatch(stage.input)) < 0) {
            ended = true;
            return null;
        }
        for (Object element : group) {
            pending.add(Tracked.valueOf(element));
            Tracked.release(element, Disposition.RELEASED);
        }
        group.clear();
        return pending.poll();
    }

    @Override
    public void emit(Object item) throws InterruptedException {
        if (item == null) {
            throw new NullPointerException("stage '" + stage.name() + "' emitted null; items must not be null");
        }
        try {
            sendNow(item);
        } catch (ChannelFailedException e) {
            throw e;
        } catch (ChannelClosedException e) {
            InterruptedException end = new InterruptedException("the pipeline is no longer taking items");
            end.initCause(e);
            throw end;
        }
    }

    @Override
    public void emitAll(List<?> items) throws InterruptedException {
        for (Object item : items) {
            if (item == null) {
                throw new NullPointerException(
                        "stage '" + stage.name() + "' emitted null in a group; items must not be null");
            }
        }
        for (Object item : items) {
            emit(item);
        }
    }

    @Override
    public StageContext context() {
        return stage.context;
    }
}
