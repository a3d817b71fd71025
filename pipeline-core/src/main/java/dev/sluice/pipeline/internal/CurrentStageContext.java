package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.StageContext;

/** The thread-local behind {@link StageContext#current()}: set and cleared by the pipeline around each stage. */
public final class CurrentStageContext {
    private static final ThreadLocal<StageContext> CURRENT = new ThreadLocal<>();

    private CurrentStageContext() {}

    public static StageContext get() {
        return CURRENT.get();
    }

    static void set(StageContext context) {
        CURRENT.set(context);
    }

    static void clear() {
        CURRENT.remove();
    }
}
