package dev.sluice.pipeline;

/**
 * A stage of your own, placed in a pipeline with {@link Pipeline#via}: a body that takes its input items with a
 * blocking {@link Input#receive()} and pushes its output with a blocking {@link Emitter#emit}, on the stage's own
 * thread, once per run. Unlike {@code map}, the body decides how many outputs follow each input and when: this is how
 * a module outside the core plugs in a stage that talks to something else (a bidirectional gRPC stream, a
 * request/response protocol) with its own flow control.
 *
 * <pre>{@code
 * Stage<String, Integer> lengths = (input, output) -> {
 *     for (String s; (s = input.receive()) != null; ) {
 *         output.emit(s.length());
 *     }
 * };
 * Pipeline.from(Source.of("a", "bb")).via(lengths).to(Sink.toList()).run();   // [1, 2]
 * }</pre>
 *
 * <h2>The contract</h2>
 * <ul>
 *   <li>{@link #run} is called once per run, on the stage's thread. Returning normally completes the stage: its
 *       output is closed and the stages after it drain and complete. If it returns before its input has ended, the
 *       stages before it are finished early, as after a {@code take}.</li>
 *   <li>Throwing fails the run with that exception (there is no per-item {@link ErrorPolicy}: the body owns its
 *       items). An {@link InterruptedException} while the run is cancelled or aborting is the abort itself.</li>
 *   <li>Cancellation, failure elsewhere, or the deadline interrupt the stage's thread; {@link Input#receive()} and
 *       {@link Emitter#emit} then throw {@link InterruptedException}, which the body should let propagate. A graceful
 *       stop reaches only the source: the stage sees its input end and finishes normally.</li>
 *   <li>The body may start threads of its own (with a {@link Scope}, which it must close before it returns) and
 *       hand the emitter to one of them, one thread at a time with a happens-before edge between them (the
 *       scope's fork and join give one). Interrupting the stage's thread is how the run tells the body to end; the
 *       body passes that on by cancelling its scope.</li>
 *   <li>Memory: the body holds what it keeps itself, on top of the pipeline's links. Document that bound on a
 *       stage you publish.</li>
 *   <li>Acknowledgements: the body owns its items, and nothing tells which outputs come from which input, so an
 *       item whose source asked to know when it is finished is released ({@link Disposition#RELEASED}: nothing
 *       claimed about it) as the stage takes it, and the stage's outputs are not tracked.</li>
 * </ul>
 *
 * <p><b>Incubating:</b> this hook may change in a minor release.
 *
 * @param <T> the type of the input items
 * @param <R> the type of the output items
 * @since 0.1
 */
@FunctionalInterface
public interface Stage<T, R> {

    /**
     * Runs the stage for one run of the pipeline.
     *
     * @param input the stage's input, read from one thread at a time
     * @param output where the stage's results go; {@link Emitter#context()} is the stage's context
     * @throws Exception fails the run (see the class comment)
     * @since 0.1
     */
    void run(Input<T> input, Emitter<R> output) throws Exception;

    /**
     * The input of a {@link Stage}: the items of the stage before it, in order. Read from one thread at a time: the
     * stage's thread, or one thread it hands the input to, with a happens-before edge between them (a scope's fork
     * and join give one).
     *
     * <p><b>Incubating:</b> this hook may change in a minor release.
     *
     * @param <T> the type of the items
     * @since 0.1
     */
    interface Input<T> {

        /**
         * Takes the next item, waiting while none has arrived.
         *
         * @return the next item, or null once the input has ended (the stage before completed, or was stopped); every
         *     later call returns null too
         * @throws InterruptedException if the run is cancelled or aborting while the stage waits
         * @throws ChannelFailedException if the input link was failed by the run's abort
         * @since 0.1
         */
        T receive() throws InterruptedException;
    }
}
