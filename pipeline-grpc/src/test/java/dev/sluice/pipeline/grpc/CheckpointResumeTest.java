package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.pipeline.CheckpointStore;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PositionTracker;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.proto.items.Item;
import dev.sluice.pipeline.proto.items.StreamItemsRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A consumer of a server stream that is itself restarted: it checkpoints the cursor of the last item it
 * <em>finished</em> (not only received), and the restarted job asks the server to continue after it.
 */
@Timeout(60)
class CheckpointResumeTest {

    static final int N = 5_000;

    @Test
    void aRestartedJobAsksTheServerToContinueAfterTheLastItemItFinished() throws Exception {
        // given: a server stream of N items, a store, a job that fails at item 3,000 the first time
        List<StreamItemsRequest> requests = new CopyOnWriteArrayList<>();
        CountingItemService counting = new CountingItemService();
        LambdaItemService service = new LambdaItemService((request, responses) -> {
            requests.add(request);
            counting.streamItems(request, responses);
        });
        CheckpointStore store = CheckpointStore.inMemory();
        ConcurrentHashMap<Long, Integer> handled = new ConcurrentHashMap<>();
        try (TestServer server = TestServer.start(TestServer.Transport.IN_PROCESS, service.bindService())) {
            // when
            assertThatThrownBy(() -> runJob(server, store, handled, 3_000)).isInstanceOf(PipelineFailedException.class);
            long checkpoint = store.load("feed").orElseThrow();
            int handledBefore = handled.size();
            runJob(server, store, handled, -1);
            // then: the restart asked for the items after the checkpoint's predecessor, and got every item
            assertThat(checkpoint).isBetween(2L, 3_000L);
            assertThat(requests).hasSize(2);
            assertThat(Items.startAfter(requests.get(1))).isEqualTo(checkpoint - 1);
            assertThat(handled).hasSize(N);
            assertThat(handled.values().stream().filter(c -> c > 1).count())
                    .as("handled twice: only what the first run finished beyond its checkpoint")
                    .isEqualTo(handledBefore - (checkpoint - 1));
            assertThat(store.load("feed")).hasValue(N + 1L);
        }
    }

    private static void runJob(
            TestServer server, CheckpointStore store, ConcurrentHashMap<Long, Integer> handled, long failAt)
            throws Exception {
        long resumeAt = store.load("feed").orElse(1); // the sequence of the first item not finished
        StreamItemsRequest request = Items.request(N).toBuilder()
                .setResumeAfter(resumeAt > 1 ? Long.toString(resumeAt - 1) : "")
                .build();
        PositionTracker tracker = new PositionTracker(resumeAt);
        Source<Item> items =
                Source.tracked(GrpcSource.of(server.channel(), Items.STREAM, request), Item::getSequence, tracker);
        Pipeline.from(items)
                .listener(store.saving("feed", tracker), Duration.ofMillis(20))
                .mapConcurrentUnordered(4, item -> {
                    if (item.getSequence() == failAt) {
                        throw new IllegalStateException("the job fails at " + failAt);
                    }
                    return item.getSequence();
                })
                .to(Sink.forEach(sequence -> handled.merge(sequence, 1, Integer::sum)))
                .run();
    }
}
