package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.Channel;
import dev.sluice.pipeline.ChannelClosedException;
import dev.sluice.pipeline.ChannelFailedException;
import dev.sluice.pipeline.Emitter;
import dev.sluice.pipeline.Source;
import java.util.ArrayList;
import java.util.List;

/** {@link Source#fromChannel(Channel)}: receives until the channel is closed and drained. */
public final class ChannelSource<T> implements Source<T>, BatchedSource<T> {
    private final Channel<? extends T> channel;

    public ChannelSource(Channel<? extends T> channel) {
        this.channel = channel;
    }

    @Override
    public void produce(Emitter<T> emitter) throws InterruptedException {
        try {
            for (; ; ) {
                emitter.emit(channel.receive());
            }
        } catch (ChannelFailedException e) {
            throw e;
        } catch (ChannelClosedException end) {
            // closed and drained: the source is done
        }
    }

    @Override
    public boolean batches() {
        return true;
    }

    @Override
    public void produceBatches(Emitter<T> out, int batchSize) throws InterruptedException {
        // Items received together were all in the channel already: passing them on as a group delays none.
        List<T> group = new ArrayList<>(batchSize);
        try {
            for (; ; ) {
                channel.receiveMany(group, batchSize);
                out.handOver(group); // taken from the channel: delivered even during a stop
                group.clear();
            }
        } catch (ChannelFailedException e) {
            throw e;
        } catch (ChannelClosedException end) {
            // closed and drained: the source is done
        }
    }
}
