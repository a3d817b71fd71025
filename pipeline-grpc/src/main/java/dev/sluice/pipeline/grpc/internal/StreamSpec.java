package dev.sluice.pipeline.grpc.internal;

import dev.sluice.pipeline.grpc.ResilienceOptions;
import dev.sluice.pipeline.grpc.ResumeStrategy;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import java.time.Duration;

/**
 * Everything a gRPC source needs for its calls; checked by the public builder.
 *
 * @param maxBatchDelay the longest a flowing stream's messages wait to go downstream together; zero for never
 * @param resilience null for a single call with no idle timeout
 * @param resume null if a stream that failed past its first item is not to be continued
 * @param breaker null for no circuit breaker
 */
public record StreamSpec<Req, Resp>(
        Channel channel,
        MethodDescriptor<Req, Resp> method,
        Req request,
        CallOptions callOptions,
        int prefetch,
        int replenishBatch,
        Duration maxBatchDelay,
        ResilienceOptions resilience,
        ResumeStrategy<Req, Resp> resume,
        CircuitBreaker breaker) {}
