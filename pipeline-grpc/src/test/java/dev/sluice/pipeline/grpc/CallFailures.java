package dev.sluice.pipeline.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.PipelineCancelledException;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineHandle;
import io.grpc.Status;
import java.time.Duration;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** The checks the call-shape tests share on how a run and its gRPC call end together. */
final class CallFailures {

    private CallFailures() {}

    /** Asserts that {@code run} fails with a {@link GrpcCallException} of status {@code code} as the cause. */
    static void assertRunFailsWithStatus(ThrowingCallable run, Status.Code code) {
        assertThatThrownBy(run)
                .isInstanceOfSatisfying(
                        PipelineFailedException.class,
                        e -> assertThat(e.getCause())
                                .isInstanceOfSatisfying(
                                        GrpcCallException.class,
                                        g -> assertThat(g.code()).isEqualTo(code)));
    }

    /**
     * Waits until {@code service} has received 50 items of {@code run}'s call and stalled, cancels the run, and asserts
     * that the run ends cancelled and the server sees its call cancelled; then releases the service.
     */
    static void assertCancellingTheRunCancelsTheCall(PlainShapeService service, PipelineHandle<?> run) {
        await().atMost(Duration.ofSeconds(30)).until(() -> service.received.get() >= 50);
        // when
        run.cancel();
        // then
        assertThatThrownBy(run::await).isInstanceOf(PipelineCancelledException.class);
        await().atMost(Duration.ofSeconds(10)).until(() -> service.cancelled.get() == 1);
        service.release.countDown();
    }
}
