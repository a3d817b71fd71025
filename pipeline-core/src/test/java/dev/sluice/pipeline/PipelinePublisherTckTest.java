package dev.sluice.pipeline;

import java.util.concurrent.Flow;
import org.reactivestreams.tck.TestEnvironment;
import org.reactivestreams.tck.flow.FlowPublisherVerification;

/**
 * The Reactive Streams TCK (Flow flavour, TestNG, run on the JUnit Platform through testng-engine) against
 * {@link Pipeline#toPublisher()}, with a 1 s signal timeout instead of the TCK's 100 ms default, so that a loaded
 * machine's scheduling delay is not taken for a missing signal.
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
