package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Benchmark 3: a chain of stages on virtual threads, each taking an item from the link before it and passing it to
 * the link after it. {@code stages} threads (a source, {@code stages - 2} relays, a sink) are joined by
 * {@code stages - 1} links: the hops. Time per item and hop is what one more stage costs a pipeline.
 */
final class StageChain {

    private StageChain() {}

    /** The number of hops in a chain of {@code stages} stages. */
    static int hops(int stages) {
        return stages - 1;
    }

    /**
     * The chain built by hand: one virtual thread per stage, links of the given kind.
     *
     * @return the sum of the items the sink received, checked
     */
    static long byHand(LinkKind kind, int stages, int capacity, Long[] items) throws InterruptedException {
        if (stages < 2) {
            throw new IllegalArgumentException("a chain needs at least 2 stages, got " + stages);
        }
        List<Link<Long>> links = new ArrayList<>(hops(stages));
        for (int i = 0; i < hops(stages); i++) {
            links.add(kind.create(capacity, 1, 1));
        }
        long[] sum = new long[1];
        Workers workers = new Workers(ThreadKind.VIRTUAL);
        workers.add("stage-0", () -> {
            Link<Long> out = links.get(0);
            for (Long item : items) {
                out.send(item);
            }
        });
        for (int s = 1; s < stages - 1; s++) {
            Link<Long> in = links.get(s - 1);
            Link<Long> out = links.get(s);
            workers.add("stage-" + s, () -> {
                for (int i = 0; i < items.length; i++) {
                    out.send(in.receive());
                }
            });
        }
        workers.add("stage-" + (stages - 1), () -> {
            Link<Long> in = links.get(links.size() - 1);
            long total = 0;
            for (int i = 0; i < items.length; i++) {
                total += in.receive();
            }
            sum[0] = total;
        });
        workers.runAll();
        return Items.expect("sum at the end of the chain", Items.sumOfRange(0, items.length), sum[0]);
    }

    /**
     * The same chain as a Sluice pipeline: a source, {@code stages - 2} identity maps and a reducing sink, every
     * link of the given capacity. The pipeline picks its links (SPSC here) and moves items in groups.
     *
     * @return the sum of the items the sink received, checked
     */
    static long pipeline(int stages, int capacity, Long[] items) throws InterruptedException {
        Pipeline<Long> chain = Pipeline.from(Source.from(Arrays.asList(items))).buffer(capacity);
        for (int s = 1; s < stages - 1; s++) {
            chain = chain.map((Long x) -> x).buffer(capacity);
        }
        PipelineResult<Long> result = chain.to(Sink.reduce(0L, Long::sum)).run();
        return Items.expect("sum at the end of the chain", Items.sumOfRange(0, items.length), result.value());
    }
}
