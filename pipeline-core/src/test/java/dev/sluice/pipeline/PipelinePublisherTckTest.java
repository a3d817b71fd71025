package dev.sluice.pipeline;

import java.util.concurrent.Flow;
import org.reactivestreams.tck.TestEnvironment;
import org.reactivestreams.tck.flow.FlowPublisherVerification;

/**
 * The Reactive Streams TCK (Flow flavour, TestNG, run on the JUnit Platform through testng-engine) against
 * {@link Pipeline#toPublisher()}. The TCK's 100 ms default timeout flakes on 2 busy cores; 1 s does not.
 */
public class PipelinePublisherTckTest extends FlowPublisherVerification<Long> {

    private static final long TIMEOUT_MILLIS = 1_000;
    private static final long NO_SIGNAL_MILLIS = 100;

    public PipelinePublisherTckTest() {
        super(new TestEnvironment(TIMEOUT_MILLIS, NO_SIGNAL_MILLIS), TIMEOUT_MILLIS);
    }

    @Override
    public Flow.Publisher<Long> createFlowPublisher(long elements) {
        return Pipeline.from(Source.range(0, elements)).map(x -> x * 2).toPublisher();
    }

    @Override
    public Flow.Publisher<Long> createFailedFlowPublisher() {
        Source<Long> failing = emitter -> {
            throw new IllegalStateException("this publisher fails");
        };
        return Pipeline.from(failing).toPublisher();
    }
}
