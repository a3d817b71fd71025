package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.ErrorPolicy;

/**
 * One stage of a pipeline description.
 *
 * @param name unique within the pipeline
 * @param operator what the stage does
 * @param errorPolicy what it does when its function throws
 * @param output the link to the next stage; {@code null} for the sink
 */
public record StageSpec(String name, Operator operator, ErrorPolicy errorPolicy, LinkSpec output) {

    public StageSpec withName(String newName) {
        return new StageSpec(newName, operator, errorPolicy, output);
    }

    public StageSpec withErrorPolicy(ErrorPolicy policy) {
        return new StageSpec(name, operator, policy, output);
    }

    public StageSpec withOutput(LinkSpec link) {
        return new StageSpec(name, operator, errorPolicy, link);
    }
}
