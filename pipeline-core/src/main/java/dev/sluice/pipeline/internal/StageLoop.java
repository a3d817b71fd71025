package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.ChannelClosedException;
import dev.sluice.pipeline.ChannelFailedException;
import dev.sluice.pipeline.DeadLetter;
import dev.sluice.pipeline.Disposition;
import dev.sluice.pipeline.ErrorPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loop of one stage thread. Subclasses take items from the input in groups ({@link #receiveGroup}) and pass
 * results on with {@link #forward}, which buffers them and sends a group when the next stage waits for items or
 * the group is full; {@link #flush} before anything that may block for long.
 *
 * <p>A loop returns normally when its input is closed and drained, and closes its output. It throws when
 * its function fails under {@link ErrorPolicy#fail()}, or when the run aborts (its links fail, its thread is
 * interrupted); the run tells those apart.
 */
abstract class StageLoop implements Callable<Object> {

    private static final Logger log = LoggerFactory.getLogger("dev.sluice.pipeline.Stage");
    /** Skips logged at WARN per stage and run; the rest at DEBUG (the count is in the summary anyway). */
    private static final int SKIPS_LOGGED_AS_WARN = 3;

    final RunningStage stage;
    final StageThreadCounters counters;
    private final Link<Object> out;
    private final List<Object> outGroup;
    private final int outBatch;

    StageLoop(RunningStage stage) {
        this.stage = stage;
        this.counters = stage.newCounters();
        this.out = stage.output;
        this.outBatch = stage.transferBatch(out);
        this.outGroup = out == null ? List.of() : new ArrayList<>(outBatch);
    }

    /**
     * Takes the items already waiting in the input, waiting for at least one.
     *
     * @return how many were added to {@code group}, or -1 once the input is closed and drained
     */
    final int receiveGroup(List<Object> group, int max) throws InterruptedException {
        try {
            int before = group.size();
            int n = stage.input.receiveMany(group, max);
            long items = n;
            if (stage.inputCarriesBatches) {
                items = 0;
                for (int i = before; i < group.size(); i++) {
                    items += weight(group.get(i));
                }
            }
            counters.addIn(items);
            return n;
        } catch (ChannelFailedException e) {
            throw e;
        } catch (ChannelClosedException end) {
            return -1;
        }
    }

    /** How many items an element of the input stands for: a list from {@code batch} counts as its size. */
    final long weight(Object element) {
        return stage.inputCarriesBatches && Tracked.valueOf(element) instanceof List<?> list ? list.size() : 1;
    }

    /**
     * Whether the items this stage holds are no longer wanted: the run aborts (a cancel, from a function of this very
     * stage too) or a stage after it finished early ({@code take}). Read before each call of a user function on a
     * group the stage has taken, so that the rest of the group is abandoned, to be released by the run's end.
     */
    final boolean abandoned() {
        return stage.finishedEarly || stage.run.isAborting();
    }

    /**
     * A function's result, checked inside the call's error handling: a null result is that item's failure, handled
     * by the stage's error policy like anything the function throws.
     */
    final Object result(Object result) {
        if (result == null) {
            throw new NullPointerException("stage '" + stage.name() + "' produced null; items must not be null");
        }
        return result;
    }

    /**
     * The element to pass on for {@code result}, computed from the input element {@code in}: the result itself,
     * or, if {@code in} is tracked, its envelope carrying the result (reused: the stage owns it).
     *
     * @throws NullPointerException if {@code result} is null
     */
    final Object carry(Object in, Object result) {
        result(result);
        if (in instanceof Tracked t) {
            t.value = result;
            return t;
        }
        return result;
    }

    /** Queues a result for the next stage; sends the group if it is full or the next stage is waiting. */
    final void forward(Object item) throws InterruptedException {
        if (item == null) {
            throw new NullPointerException("stage '" + stage.name() + "' produced null; items must not be null");
        }
        outGroup.add(item);
        if (outGroup.size() >= outBatch || out.hasWaitingReceivers()) {
            flush();
        }
    }

    /** Sends the queued results. */
    final void flush() throws InterruptedException {
        int n = outGroup.size();
        if (n == 0) {
            return;
        }
        int sent = out.sendGroup(outGroup, 0);
        counters.addOut(sent);
        if (sent < n) { // interrupted: the run is aborting
            outGroup.subList(0, sent).clear();
            Thread.interrupted();
            throw new InterruptedException();
        }
        outGroup.clear();
    }

    /** Sends one element at once (a concurrent worker's result, a source's item). */
    final void sendNow(Object item) throws InterruptedException {
        out.send(item);
        counters.addOut(1);
    }

    /** Sends a list made by {@code batch} (or its {@link Tracked} envelope), counted as the {@code items} it holds. */
    final void sendBatch(Object batch, long items) throws InterruptedException {
        out.send(batch);
        counters.addOut(items);
    }

    /** The normal end: everything sent, the output closed. */
    final void complete() throws InterruptedException {
        flush();
        out.close();
    }

    /**
     * Applies the stage's error policy to an exception its function threw for the input {@code element}. Returns if
     * the item is to be skipped (skip, dead letter); throws if the run is to fail. A tracked element's reference is
     * released as skipped, dead-lettered or failed.
     */
    final void onItemError(Object element, Exception error) throws Exception {
        onItemError(Tracked.valueOf(element), element instanceof Tracked t ? t.ack : null, error, weight(element));
    }

    /**
     * As {@link #onItemError(Object, Exception)}, for {@code value} (what the user's function saw, also what a
     * dead letter carries) that stands for {@code items} items and holds {@code ack} (null if untracked).
     *
     * <p>An error is the item's only while the stage is still wanted. Once the run is aborting (cancelled, failed,
     * past its deadline or its stop's grace) or a stage downstream has finished early, the stage's threads are
     * interrupted, and a call cut short reports it in its own way (gRPC's CANCELLED, NIO's
     * ClosedByInterruptException, a wrapped InterruptedException): whatever the item's function threw then is
     * rethrown, so the item is released when the run ends, never skipped, dead-lettered or failed.
     */
    final void onItemError(Object value, ItemAck ack, Exception error, long items) throws Exception {
        if (error instanceof InterruptedException || stage.finishedEarly || stage.run.isAborting()) {
            throw error; // cancellation, never an item's failure: the run releases the element when it ends
        }
        ErrorPolicy policy = stage.spec.errorPolicy();
        switch (policy) {
            case ErrorPolicy.Fail fail -> {
                counters.addFailed(items);
                if (ack != null) {
                    ack.release(Disposition.FAILED);
                }
                throw error;
            }
            case ErrorPolicy.Skip skip -> {
                counters.addSkipped(items);
                if (ack != null) {
                    ack.release(Disposition.SKIPPED);
                }
                int logged = stage.skipsLogged.get() < SKIPS_LOGGED_AS_WARN
                        ? stage.skipsLogged.incrementAndGet()
                        : SKIPS_LOGGED_AS_WARN + 1; // past the few: no further write to the shared count
                if (logged <= SKIPS_LOGGED_AS_WARN) {
                    log.warn(
                            "pipeline '{}' stage '{}' skipped an item after an error{}: {}",
                            stage.context.pipelineName(),
                            stage.name(),
                            logged == SKIPS_LOGGED_AS_WARN ? " (further skips at DEBUG)" : "",
                            error.toString(),
                            error);
                } else if (log.isDebugEnabled()) {
                    log.debug(
                            "pipeline '{}' stage '{}' skipped an item after an error",
                            stage.context.pipelineName(),
                            stage.name(),
                            error);
                }
            }
            case ErrorPolicy.ToDeadLetter deadLetter -> {
                counters.addFailed(items); // handed to the handler, or the item the run fails on if it throws
                stage.deadLetters.lock();
                try {
                    deadLetter.handler().accept(new DeadLetter(stage.name(), value, error));
                } catch (Exception | Error handlerFailed) {
                    handlerFailed.addSuppressed(error); // the item's own error, which the handler could not take
                    if (ack != null) {
                        ack.release(Disposition.FAILED);
                    }
                    throw handlerFailed;
                } finally {
                    stage.deadLetters.unlock();
                }
                if (ack != null) {
                    ack.release(Disposition.DEAD_LETTERED);
                }
            }
        }
    }
}
