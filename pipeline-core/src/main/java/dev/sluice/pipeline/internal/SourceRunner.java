package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.ChannelClosedException;
import dev.sluice.pipeline.Emitter;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.StageContext;
import java.util.List;

/**
 * Runs a {@link Source}. An in-memory source moves its items in groups; any other source sends each item as it
 * is emitted, since its next item may be long in coming. Ends by closing its output, also when the run is being
 * stopped gracefully (whatever the source threw then).
 */
final class SourceRunner extends StageRunner implements Emitter<Object>, BatchedSource.BatchEmitter<Object> {
    private final Source<Object> source;

    SourceRunner(StageRuntime stage, Source<Object> source) {
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
            throw new NullPointerException("the source of pipeline '" + stage.context.pipelineName() + "' emitted null");
        }
        try {
            sendNow(item);
        } catch (ChannelClosedException e) {
            throw endOfEmission(e);
        }
    }

    @Override
    public void emitAll(List<Object> items) throws InterruptedException {
        try {
            stage.output.sendAll(items);
            counters.addOut(items.size());
        } catch (ChannelClosedException e) {
            throw endOfEmission(e);
        }
    }

    /** The output failed because the run is aborting or finished early: the source hears it as an interrupt. */
    private InterruptedException endOfEmission(ChannelClosedException e) {
        InterruptedException interrupted = new InterruptedException(
                "the pipeline is no longer taking items (" + (stage.finishedEarly ? "finished early" : "aborting") + ")");
        interrupted.initCause(e);
        return interrupted;
    }

    @Override
    public StageContext context() {
        return stage.context;
    }
}
