package dev.sluice.pipeline.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The counters one stage thread keeps. Single writer: only the owning thread adds, with release stores (plain
 * moves on x86, no fence); any thread may read them with acquire loads, for snapshots and meters. A stage with
 * several threads has one instance per thread, summed when read.
 */
final class StageThreadCounters {
    private long in;
    private long out;
    private long skipped;
    private long failed;

    void addIn(long n) {
        IN.setRelease(this, in + n);
    }

    void addOut(long n) {
        OUT.setRelease(this, out + n);
    }

    void addSkipped(long n) {
        SKIPPED.setRelease(this, skipped + n);
    }

    void addFailed(long n) {
        FAILED.setRelease(this, failed + n);
    }

    long in() {
        return (long) IN.getAcquire(this);
    }

    long out() {
        return (long) OUT.getAcquire(this);
    }

    long skipped() {
        return (long) SKIPPED.getAcquire(this);
    }

    long failed() {
        return (long) FAILED.getAcquire(this);
    }

    private static final VarHandle IN;
    private static final VarHandle OUT;
    private static final VarHandle SKIPPED;
    private static final VarHandle FAILED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            IN = l.findVarHandle(StageThreadCounters.class, "in", long.class);
            OUT = l.findVarHandle(StageThreadCounters.class, "out", long.class);
            SKIPPED = l.findVarHandle(StageThreadCounters.class, "skipped", long.class);
            FAILED = l.findVarHandle(StageThreadCounters.class, "failed", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
