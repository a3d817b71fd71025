package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.StageContext;
import dev.sluice.pipeline.internal.check.Require;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/** The {@link StageContext} of one stage in one run. */
final class RunningStageContext implements StageContext {
    private final String pipelineName;
    private final String stageName;
    private final String correlationId;
    private final Map<String, Object> attributes;
    private final MeterRegistry registry;
    private final BooleanSupplier aborting;

    RunningStageContext(
            String pipelineName,
            String stageName,
            String correlationId,
            Map<String, Object> attributes,
            MeterRegistry registry,
            BooleanSupplier aborting) {
        this.pipelineName = pipelineName;
        this.stageName = stageName;
        this.correlationId = correlationId;
        this.attributes = attributes;
        this.registry = registry;
        this.aborting = aborting;
    }

    @Override
    public String pipelineName() {
        return pipelineName;
    }

    @Override
    public String stageName() {
        return stageName;
    }

    @Override
    public String correlationId() {
        return correlationId;
    }

    @Override
    public void attribute(String key, Object value) {
        Require.nonNull(key, "key");
        if (value != null) {
            attributes.put(key, value);
        }
    }

    @Override
    public Optional<MeterRegistry> meterRegistry() {
        return Optional.ofNullable(registry);
    }

    @Override
    public boolean isAborting() {
        return aborting.getAsBoolean();
    }

    @Override
    public String toString() {
        return "StageContext[" + pipelineName + "/" + stageName + ", correlation " + correlationId + "]";
    }
}
