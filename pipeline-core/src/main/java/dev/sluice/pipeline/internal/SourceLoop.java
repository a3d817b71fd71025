package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.Acknowledgement;
import dev.sluice.pipeline.ChannelClosedException;
import dev.sluice.pipeline.Disposition;
import dev.sluice.pipeline.Emitter;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.StageContext;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Runs a {@link Source}. An in-memory source moves its items in groups; any other source sends each item as it
 * is emitted, since its next item may be long in coming. Ends by closing its output, also when the run is being
 * stopped gracefully (whatever the source threw then).
 *
 * <h2>A graceful stop</h2>
 * The stop reaches the source as an interrupt. Whatever the source is handing over at that moment, or hands over
 * first after it, is still delivered: those items were already taken from its input (a channel, a stream, a
 * publisher), and dropping them would lose them. Then the interrupt is restored, so that the source's next wait
 * for input ends it; an {@code emit} after that is refused with {@link InterruptedException}. Sources built into
 * Sluice hand over everything they had already received through {@link Emitter#handOver}. If the rest of the
 * pipeline cannot take the items within the grace period, the run is aborted, which fails the link and ends the
 * hand-over.
 */
final class SourceLoop extends StageLoop implements Emitter<Object> {
    private final Source<Object> source;
    /** The source has been told of a graceful stop: nothing new enters. Source thread only. */
    private boolean stopNoticed;
    /** The items emitted with an acknowledgement, until acknowledged. Source thread only, then the coordinator. */
    private final AckRegistry tracked = new AckRegistry();

    SourceLoop(RunningStage stage, Source<Object> source) {
        super(stage);
        this.source = source;
    }

    @Override
    public Object call() throws Exception {
        if (stage.run.isStopping()) {
            stage.output.close(); // stopped before it started
            return null;
        }
        try {
            if (source instanceof BatchedSource<?> batched && batched.batches()) {
                @SuppressWarnings("unchecked")
                BatchedSource<Object> b = (BatchedSource<Object>) batched;
                b.produceBatches(this, stage.transferBatch(stage.output));
            } else {
                source.produce(this);
            }
        } catch (Exception e) {
            if (!stage.run.isStopping()) {
                throw e;
            }
            // Stopping: the interrupt that ended the source is the stop itself, however the source reported it.
        }
        stage.output.close();
        return null;
    }

    @Override
    public void emit(Object item) throws InterruptedException {
        if (item == null) {
            throw new NullPointerException(
                    "the source of pipeline '" + stage.context.pipelineName() + "' emitted null");
        }
        emitOne(item);
    }

    @Override
    public void emit(Object item, Acknowledgement ack) throws InterruptedException {
        Objects.requireNonNull(ack, "ack must not be null");
        ItemAck.Root root = new ItemAck.Root(ack);
        if (item == null) {
            root.forceRelease(Disposition.RELEASED);
            throw new NullPointerException(
                    "the source of pipeline '" + stage.context.pipelineName() + "' emitted null");
        }
        tracked.add(root); // from here on, the run's end releases it if nothing else acknowledges it
        try {
            emitOne(new Tracked(item, root));
        } catch (Throwable notAccepted) {
            root.forceRelease(Disposition.RELEASED);
            throw notAccepted;
        }
    }

    /**
     * Acknowledges every tracked item the run did not finish as {@link Disposition#RELEASED}. Called once every
     * stage thread has ended.
     */
    void releaseUnfinished() {
        tracked.releaseAll();
    }

    @Override
    public void emitAll(List<?> items) throws InterruptedException {
        emitChecked(checked(items, "emitted"));
    }

    /** {@link #emitAll} once the items are known not to be null. */
    private void emitChecked(List<Object> items) throws InterruptedException {
        refuseOnceStopNoticed();
        int sent = send(items, 0);
        if (sent < items.size()) {
            interruptedWhileEmitting(items, sent);
        }
    }

    /** {@link #emitChecked} for one item known not to be null, without wrapping it in a list. */
    private void emitOne(Object item) throws InterruptedException {
        refuseOnceStopNoticed();
        if (!Thread.currentThread().isInterrupted()) {
            try {
                stage.output.send(item);
                counters.addOut(1);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // as sendGroup leaves it: the item was not sent
            } catch (ChannelClosedException e) {
                throw endOfEmission(e);
            }
        }
        interruptedWhileEmitting(Collections.singletonList(item), 0);
    }

    private void refuseOnceStopNoticed() throws InterruptedException {
        if (stopNoticed) {
            throw new InterruptedException("the pipeline is stopping: the source takes no more items in");
        }
    }

    /**
     * An emit was interrupted before {@code items} from {@code from} on were sent: a graceful stop delivers them
     * still (and refuses every later emit); any other interrupt ends the emit, unsent.
     */
    private void interruptedWhileEmitting(List<Object> items, int from) throws InterruptedException {
        if (!stage.run.isStopping()) {
            Thread.interrupted();
            throw new InterruptedException();
        }
        stopNoticed = true;
        deliverDespiteInterrupts(items, from);
    }

    @Override
    public void handOver(List<?> items) throws InterruptedException {
        deliverDespiteInterrupts(checked(items, "handed over"), 0);
    }

    /** The items, once known to be a list with no null in it. */
    @SuppressWarnings("unchecked")
    private List<Object> checked(List<?> items, String verb) {
        if (items == null) {
            throw new NullPointerException(
                    "the source of pipeline '" + stage.context.pipelineName() + "' " + verb + " a null list");
        }
        for (Object item : items) {
            if (item == null) {
                throw new NullPointerException(
                        "the source of pipeline '" + stage.context.pipelineName() + "' " + verb + " null in a group");
            }
        }
        return (List<Object>) items;
    }

    /** Sends every item from {@code from} on; an interrupt is remembered and restored, never a reason to stop. */
    private void deliverDespiteInterrupts(List<Object> items, int from) throws InterruptedException {
        boolean interrupted = Thread.interrupted();
        int next = from;
        while (next < items.size()) {
            next = send(items, next);
            interrupted |= Thread.interrupted();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sends from {@code from}, counting what went; returns the index after the last item sent. */
    private int send(List<Object> items, int from) throws InterruptedException {
        try {
            int sent = stage.output.sendGroup(items, from);
            counters.addOut(sent - from);
            return sent;
        } catch (ChannelClosedException e) {
            throw endOfEmission(e);
        }
    }

    /** The output failed because the run is aborting or finished early: the source hears it as an interrupt. */
    private InterruptedException endOfEmission(ChannelClosedException e) {
        InterruptedException interrupted = new InterruptedException("the pipeline is no longer taking items ("
                + (stage.finishedEarly ? "finished early" : "aborting") + ")");
        interrupted.initCause(e);
        return interrupted;
    }

    @Override
    public StageContext context() {
        return stage.context;
    }
}
