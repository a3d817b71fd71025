package dev.sluice.pipeline.benchmarks;

/** The kind of thread a benchmark's producers, consumers and stages run on. */
enum ThreadKind {
    VIRTUAL {
        @Override
        Thread unstarted(String name, Runnable body) {
            return Thread.ofVirtual().name(name).unstarted(body);
        }
    },
    PLATFORM {
        @Override
        Thread unstarted(String name, Runnable body) {
            return Thread.ofPlatform().name(name).daemon(true).unstarted(body);
        }
    };

    abstract Thread unstarted(String name, Runnable body);

    /** The kind named by a JMH parameter: {@code virtual} or {@code platform}. */
    static ThreadKind of(String name) {
        return valueOf(name.toUpperCase(java.util.Locale.ROOT));
    }
}
