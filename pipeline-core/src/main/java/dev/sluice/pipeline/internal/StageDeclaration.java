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
public record StageDeclaration(String name, Operator operator, ErrorPolicy errorPolicy, LinkSpec output) {

    public StageDeclaration withName(String newName) {
        return new StageDeclaration(newName, operator, errorPolicy, output);
    }

    public StageDeclaration withErrorPolicy(ErrorPolicy policy) {
        return new StageDeclaration(name, operator, policy, output);
    }

    public StageDeclaration withOutput(LinkSpec link) {
        return new StageDeclaration(name, operator, errorPolicy, link);
    }
}
