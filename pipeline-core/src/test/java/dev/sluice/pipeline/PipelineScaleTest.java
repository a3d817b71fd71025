package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Virtual threads make a run cheap: ten thousand pipelines at once all complete and are all accounted for. */
class PipelineScaleTest {

    @Test
    @Timeout(120)
    void tenThousandSmallPipelinesRunAtOnce() throws Exception {
        // given one description, started 10,000 times before any is awaited
        RunnablePipeline<Long> small = Pipeline.from(Source.range(0, 100))
                .map(x -> x + 1)
                .filter(x -> x % 2 == 0)
                .to(Sink.reduce(0L, Long::sum));
        List<PipelineHandle<Long>> runs = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            runs.add(small.start());
        }
        // when
        Set<String> correlationIds = new HashSet<>();
        long total = 0;
        for (PipelineHandle<Long> run : runs) {
            PipelineResult<Long> result = run.await();
            assertThat(result.outcome()).isEqualTo(Outcome.COMPLETED);
            total += result.value();
            correlationIds.add(result.correlationId());
            assertThat(run.activeThreadCount()).isZero();
        }
        // then: every run did all its work, under its own ID
        assertThat(total).isEqualTo(10_000L * 2550);
        assertThat(correlationIds).hasSize(10_000);
    }
}
