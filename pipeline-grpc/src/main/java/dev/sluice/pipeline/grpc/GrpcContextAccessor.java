package dev.sluice.pipeline.grpc;

import io.grpc.Context;
import io.micrometer.context.ThreadLocalAccessor;

/**
 * gRPC's current {@link Context} as a context-propagation {@link ThreadLocalAccessor}, so that a pipeline's stages
 * run in the gRPC context of the thread that started it: its deadline bounds, and its cancellation cancels, every
 * call made from a stage ({@link GrpcSource}, {@link GrpcUnary}, or a plain stub), since grpc-java binds each new
 * client call to the context current where it is made.
 *
 * <p>{@link ServerStreams} uses it for every pipeline it serves, so a served pipeline needs nothing more; the context
 * it carries there is the run's own, with the served call's values and deadline, cancelled when the call is, just
 * after the run is cancelled (see {@link ServerStreams}). For a pipeline run by other code that has a gRPC context (a
 * unary handler, a client that set a deadline with {@code Context.current().withDeadlineAfter}), name it on that
 * pipeline:
 *
 * <pre>{@code
 * Pipeline.from(GrpcSource.builder(channel, method, request).build())
 *     .propagate(new GrpcContextAccessor())     // this pipeline's calls carry the caller's deadline
 *     .to(Sink.toList())
 *     .run();
 * }</pre>
 *
 * <p>It is deliberately not registered in context-propagation's global registry: a gRPC context carries
 * cancellation, and everything else that propagates context with that registry (Reactor's automatic mode, an
 * executor wrapped with {@code ContextSnapshot}) would then have its background work cancelled when the request that
 * started it ends, which grpc-java asks to choose explicitly ({@code Context.fork()}). Registering it is one line
 * ({@code ContextRegistry.getInstance().registerThreadLocalAccessor(new GrpcContextAccessor())}) for an application
 * that wants exactly that.
 *
 * <p>Stateless and thread-safe. A thread where no gRPC context is attached has no value (the root context is never
 * carried). Setting a context attaches it; restoring detaches it and reattaches the previous one, as gRPC pairs them.
 *
 * @since 0.1
 */
public final class GrpcContextAccessor implements ThreadLocalAccessor<Context> {

    /** The key under which the accessor reads and writes: {@value}. */
    public static final String KEY = "io.grpc.Context";

    /**
     * An accessor; all instances behave alike.
     *
     * @since 0.1
     */
    public GrpcContextAccessor() {}

    /**
     * The accessor's key, {@value #KEY}.
     *
     * @return {@value #KEY}
     */
    @Override
    public Object key() {
        return KEY;
    }

    /**
     * The calling thread's current gRPC context.
     *
     * @return the current context, or null if it is the root context
     */
    @Override
    public Context getValue() {
        Context current = Context.current();
        return current == Context.ROOT ? null : current;
    }

    /**
     * Attaches {@code value} to the calling thread; {@link #restore(Context)} detaches it.
     *
     * @param value the context to make current
     */
    @Override
    public void setValue(Context value) {
        value.attach();
    }

    /** Makes the root context current on the calling thread; {@link #restore()} detaches it. */
    @Override
    public void setValue() {
        Context.ROOT.attach();
    }

    /**
     * Detaches the context set on the calling thread and makes {@code previousValue} current again.
     *
     * @param previousValue the context that was current before {@link #setValue(Context)}
     */
    @Override
    public void restore(Context previousValue) {
        Context.current().detach(previousValue);
    }

    /** Detaches the context set on the calling thread, leaving the root context current. */
    @Override
    public void restore() {
        Context.current().detach(Context.ROOT);
    }

    @Override
    public String toString() {
        return "GrpcContextAccessor[" + KEY + "]";
    }
}
