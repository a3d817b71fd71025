package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.CallerContext;
import dev.sluice.pipeline.internal.StackDump;
import dev.sluice.pipeline.internal.check.Nanos;
import dev.sluice.pipeline.internal.check.Require;
import java.io.InterruptedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Structured concurrency on Java 21's final APIs: a scope owns every thread it forks, and no thread outlives
 * it.
 *
 * <pre>{@code
 * try (Scope scope = Scope.open()) {
 *     Fork<User> user = scope.fork("user", () -> fetchUser(id));
 *     Fork<List<Order>> orders = scope.fork("orders", () -> fetchOrders(id));
 *     scope.join();                       // both done, or the first failure rethrown
 *     return new Page(user.result(), orders.result());
 * }
 * }</pre>
 *
 * <h2>Supervision rules</h2>
 * <ul>
 *   <li>Each {@link #fork} runs its task on a new thread from the scope's thread factory (virtual threads by
 *       default), named {@code <scope name>/<fork name>}. The fork starts with the forking thread's context: its
 *       SLF4J MDC, and every thread-local that an accessor in context-propagation's global
 *       {@code io.micrometer.context.ContextRegistry} reads (Micrometer's current {@code Observation},
 *       OpenTelemetry's context where its accessor is registered, a user's own), captured when {@code fork} is
 *       called; all of it is cleared when the fork ends. {@link Builder#propagateContext(boolean)} turns that
 *       off.</li>
 *   <li>The scope is <b>cancelled</b> by the first fork that fails (throws), by {@link #cancel()} from any
 *       thread, by its deadline passing while a fork still runs (whether or not a thread waits in
 *       {@link #join()}), or by {@link #close()}. Cancelling interrupts every fork still running; forks started
 *       later do not run their task. Only the first cause counts.</li>
 *   <li>A <b>deadline</b> ({@link Builder#deadline}, {@link Builder#timeout}) cancels the forks at its time. A scope
 *       with a deadline owns one more thread for it, from its first fork until {@link #close()} (or until the
 *       deadline has passed and been acted on, whichever comes first): a watcher from the scope's thread factory,
 *       named {@code <scope name>/deadline}, made a daemon, parked until the deadline. {@code close()} ends it and waits for it,
 *       so it never outlives the scope; no thread is started before the first fork, and none at class load. Forks
 *       that have all completed by the deadline are not affected (a later {@code join()} returns normally); a fork
 *       attempted after the deadline is refused, and cancels the scope.</li>
 *   <li>{@link #join()} waits until every fork has ended, then reports how the scope ended: normally if no fork
 *       failed and nothing cancelled it; else it throws {@link ExecutionException} with the first failure as its
 *       cause, {@link CancellationException} after {@code cancel()}, or {@link TimeoutException} after the
 *       deadline. Failures of other forks after the first are attached to it as suppressed exceptions,
 *       except those that only echo the cancellation (an {@link InterruptedException}, a
 *       {@link CancellationException}, or an exception caused by one or by the first failure).</li>
 *   <li>If the thread in {@code join()} is interrupted while the scope is not cancelled, the scope is cancelled,
 *       every fork is awaited, the interrupt flag is restored, and {@link InterruptedException} is thrown. Once the
 *       scope is cancelled, {@code join()} waits for the forks without heeding interrupts (no thread may outlive
 *       the scope); an interrupt meanwhile is restored when it returns or throws.</li>
 *   <li>Cancelling marks the scope for good: {@code cancel()} after every fork has completed still makes a later
 *       {@code join()} throw {@link CancellationException}.</li>
 *   <li>{@link #close()} cancels whatever still runs and waits for it; afterwards no forked thread is alive
 *       ({@link #activeCount()} is 0) and no fork can be added. A failure that no {@code join()} reported is
 *       logged.</li>
 *   <li>A fork that ignores interruption (a CPU loop, a call that does not check) delays {@code join()} and
 *       {@code close()} until it ends. While they wait after a cancellation, every
 *       {@linkplain Builder#stragglerReportInterval straggler interval} each such thread is logged at WARN with
 *       its stack, and passed to the {@linkplain Builder#onStraggler straggler callback}.</li>
 * </ul>
 *
 * <p>Unlike {@code java.util.concurrent.StructuredTaskScope}, which is a preview API up to JDK 25 and changed
 * shape between releases, a scope needs no {@code --enable-preview} and runs on any JDK from 21.
 *
 * <p>Thread-safety: every method may be called from any thread, except that {@code join()} and {@code close()}
 * refuse to run on one of the scope's own forks (they would wait for themselves): they throw
 * {@link IllegalStateException}. Memory consistency: actions in a fork happen-before
 * {@code join()} returns or throws; actions before {@code fork} happen-before the task starts.
 *
 * @since 0.1
 */
public final class Scope implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Scope.class);
    private static final AtomicInteger SCOPES = new AtomicInteger();

    private final String name;
    private final Instant deadline;
    /** The deadline on the {@link System#nanoTime()} clock, immune to wall-clock changes. */
    private final long deadlineNanos;

    private final ThreadFactory threadFactory;
    private final Duration stragglerReportInterval;
    private final Consumer<Thread> onStraggler;
    private final boolean propagateContext;

    /** null while running, then the first ending: a {@link Failed} or a {@link Cancelled}. */
    private final AtomicReference<Ending> ending = new AtomicReference<>();
    /** Failures after the ending that are worth reporting. */
    private final Queue<Throwable> laterFailures = new ConcurrentLinkedQueue<>();

    private final Set<Thread> live = ConcurrentHashMap.newKeySet();
    private final AtomicInteger running = new AtomicInteger();
    /** The fork that ended last; each ending fork first waits for its predecessor's thread to terminate. */
    private final AtomicReference<Thread> lastExited = new AtomicReference<>();

    private final AtomicInteger forkCount = new AtomicInteger();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition quiescent = lock.newCondition();
    private volatile boolean closed;
    private volatile boolean endingReported;
    /** The deadline's watcher, once the first fork of a scope with a deadline started it. Written under lock. */
    private volatile Thread deadlineWatcher;

    private Scope(Builder b) {
        this.name = b.name != null ? b.name : "scope-" + SCOPES.incrementAndGet();
        long now = System.nanoTime();
        if (b.timeout != null) {
            this.deadline = saturatedPlus(Instant.now(), b.timeout);
            this.deadlineNanos = now + Nanos.saturated(b.timeout);
        } else if (b.deadline != null) {
            this.deadline = b.deadline;
            this.deadlineNanos = now + Nanos.saturated(betweenSaturated(Instant.now(), b.deadline));
        } else {
            this.deadline = null;
            this.deadlineNanos = 0L;
        }
        this.threadFactory = b.threadFactory != null
                ? b.threadFactory
                : Thread.ofVirtual()
                        .inheritInheritableThreadLocals(b.propagateContext)
                        .factory();
        this.stragglerReportInterval = b.stragglerReportInterval;
        this.onStraggler = b.onStraggler;
        this.propagateContext = b.propagateContext;
    }

    /**
     * A scope with the defaults: virtual threads, no deadline, stragglers reported every 10 seconds.
     *
     * @return a new, open scope named {@code scope-<n>}; close it, best with try-with-resources
     */
    public static Scope open() {
        return new Builder().open();
    }

    /**
     * Options for a new scope.
     *
     * @return a new builder with the defaults of {@link #open()}
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The scope's name: the prefix of its threads' names.
     *
     * @return the name given to the builder, or the generated {@code scope-<n>}
     */
    public String name() {
        return name;
    }

    /**
     * The deadline, if the scope has one.
     *
     * @return the deadline given, or the scope's opening time plus the timeout given; empty without either
     */
    public Optional<Instant> deadline() {
        return Optional.ofNullable(deadline);
    }

    /**
     * Forks a task named {@code fork-<n>}. See {@link #fork(String, Callable)}.
     *
     * @param <T> the type of the task's result
     * @param task the work to run on the new thread
     * @return the fork, to read its result after {@link #join()}
     * @throws NullPointerException if {@code task} is {@code null}
     * @throws IllegalStateException if the scope is closed, cancelled, or past its deadline
     */
    public <T> Fork<T> fork(Callable<? extends T> task) {
        return fork("fork-" + (forkCount.get() + 1), task);
    }

    /**
     * Starts {@code task} on a new thread owned by this scope. Never waits.
     *
     * @param <T> the type of the task's result
     * @param forkName the fork's name, appended to the scope's to name the thread
     * @param task the work to run on the new thread; if it throws, the scope is cancelled
     * @return the fork, to read its result after {@link #join()}
     * @throws NullPointerException if {@code forkName} or {@code task} is {@code null}
     * @throws IllegalStateException if the scope is closed, or already cancelled (by a failure, {@code cancel()}
     *     or its deadline), or its deadline has passed (which cancels it)
     */
    public <T> Fork<T> fork(String forkName, Callable<? extends T> task) {
        Require.nonNull(forkName, "forkName");
        Require.nonNull(task, "task");
        ensureAcceptingForks();
        forkCount.incrementAndGet();
        ForkTask<T> fork =
                new ForkTask<>(forkName, task, propagateContext ? CallerContext.capture() : CallerContext.NONE);
        Thread thread = threadFactory.newThread(fork);
        if (thread == null) {
            throw new IllegalStateException("the thread factory of scope '" + name + "' returned no thread");
        }
        thread.setName(name + "/" + forkName);
        running.incrementAndGet();
        live.add(thread);
        try {
            // Re-check after registering: a cancel that ran before the registration could not interrupt it.
            ensureAcceptingForks();
            thread.start();
        } catch (RuntimeException | Error e) {
            live.remove(thread);
            forkEnded();
            throw e;
        }
        if (deadline != null && deadlineWatcher == null) {
            startDeadlineWatcher();
        }
        return fork;
    }

    /**
     * Starts the thread that cancels the forks at the deadline, once per scope, unless the scope is closed: close()
     * sets {@code closed} before it reads the watcher under the same lock, so either it sees the watcher (and ends
     * it) or the watcher is never started.
     */
    private void startDeadlineWatcher() {
        lock.lock();
        try {
            if (deadlineWatcher != null || closed) {
                return;
            }
            Thread watcher = threadFactory.newThread(this::watchDeadline);
            if (watcher == null) {
                throw new IllegalStateException("the thread factory of scope '" + name + "' returned no thread");
            }
            watcher.setName(name + "/deadline");
            watcher.setDaemon(true); // a scope nobody closes must not keep the JVM alive until a far deadline
            deadlineWatcher = watcher;
            watcher.start();
        } finally {
            lock.unlock();
        }
    }

    /** The watcher's body: parks until the deadline, then cancels the forks still running, unless closed first. */
    private void watchDeadline() {
        for (; ; ) {
            if (closed) {
                return;
            }
            long nanos = deadlineNanos - System.nanoTime();
            if (nanos <= 0L) {
                if (running.get() > 0) {
                    cancel(new Cancelled(Cancelled.Reason.DEADLINE));
                }
                return;
            }
            LockSupport.parkNanos(this, nanos);
            Thread.interrupted(); // only close() ends the watcher; an interrupt from elsewhere is not ours to heed
        }
    }

    /** Ends the deadline's watcher, if there is one, and waits for it to terminate. Called by close(). */
    private boolean endDeadlineWatcher() {
        Thread watcher;
        lock.lock();
        try {
            watcher = deadlineWatcher;
        } finally {
            lock.unlock();
        }
        if (watcher == null) {
            return false;
        }
        LockSupport.unpark(watcher);
        return joinUninterruptibly(watcher);
    }

    private void ensureAcceptingForks() {
        if (closed) {
            throw new IllegalStateException("scope '" + name + "' is closed: it takes no new forks");
        }
        if (deadline != null && ending.get() == null && System.nanoTime() - deadlineNanos >= 0L) {
            cancel(new Cancelled(Cancelled.Reason.DEADLINE));
        }
        Ending e = ending.get();
        if (e != null) {
            throw new IllegalStateException("scope '" + name + "' is " + e.describe() + ": it takes no new forks");
        }
    }

    /**
     * Waits until every fork has ended, enforcing the deadline, then reports how the scope ended (see the class
     * comment).
     *
     * @throws ExecutionException if a fork failed; the cause is the first failure
     * @throws CancellationException if the scope was cancelled by {@link #cancel()} or {@link #close()}
     * @throws TimeoutException if the deadline passed before every fork ended
     * @throws InterruptedException if the calling thread was interrupted; the forks were cancelled and awaited
     * @throws IllegalStateException if called from one of this scope's forks
     */
    public void join() throws InterruptedException, ExecutionException, TimeoutException {
        if (live.contains(Thread.currentThread())) {
            throw new IllegalStateException(
                    "join() called from a fork of scope '" + name + "': it would wait for itself");
        }
        try {
            awaitForks();
        } catch (InterruptedException e) {
            cancel(new Cancelled(Cancelled.Reason.INTERRUPTED));
            awaitForksAfterCancel();
            Thread.currentThread().interrupt();
            throw e;
        }
        reportEnding();
    }

    /** Waits for every fork to end; cancels at the deadline. Interruptible until a cancellation. */
    private void awaitForks() throws InterruptedException {
        lock.lock();
        try {
            while (running.get() > 0) {
                if (ending.get() != null) {
                    break;
                }
                if (deadline == null) {
                    quiescent.await();
                } else {
                    long nanos = deadlineNanos - System.nanoTime();
                    if (nanos <= 0L) {
                        cancel(new Cancelled(Cancelled.Reason.DEADLINE));
                        break;
                    }
                    quiescent.awaitNanos(nanos);
                }
            }
        } finally {
            lock.unlock();
        }
        awaitForksAfterCancel();
    }

    /** Waits, uninterruptibly, for every fork to end and its thread to terminate; reports stragglers. */
    private void awaitForksAfterCancel() {
        boolean interrupted = false;
        long started = System.nanoTime();
        lock.lock();
        try {
            long interval = Nanos.saturated(stragglerReportInterval);
            long nextReport = started + interval;
            while (running.get() > 0) {
                long nanos = nextReport - System.nanoTime();
                if (nanos <= 0L) {
                    if (ending.get() != null) {
                        reportStragglers(Duration.ofNanos(System.nanoTime() - started));
                    }
                    nextReport = System.nanoTime() + interval;
                    continue;
                }
                try {
                    quiescent.awaitNanos(nanos);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            lock.unlock();
        }
        Thread last = lastExited.get();
        if (last != null) {
            interrupted |= joinUninterruptibly(last);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void reportStragglers(Duration sinceWaiting) {
        for (Thread t : live) {
            if (!t.isAlive()) {
                continue;
            }
            String where = StackDump.of(t.getStackTrace());
            log.warn(
                    "scope '{}': thread '{}' is still running {} ms after the scope was {}; it does not respond to"
                            + " interruption. It is at:{}",
                    name,
                    t.getName(),
                    sinceWaiting.toMillis(),
                    ending.get().describe(),
                    where);
            if (onStraggler != null) {
                try {
                    onStraggler.accept(t);
                } catch (RuntimeException e) {
                    log.warn("scope '{}': the straggler callback threw", name, e);
                }
            }
        }
    }

    private void reportEnding() throws ExecutionException, TimeoutException {
        Ending e = ending.get();
        endingReported = true;
        if (e == null) {
            return;
        }
        if (e instanceof Failed failed) {
            throw new ExecutionException("a fork of scope '" + name + "' failed", failed.cause());
        }
        Cancelled c = (Cancelled) e;
        Exception thrown = c.reason() == Cancelled.Reason.DEADLINE
                ? new TimeoutException("scope '" + name + "' passed its deadline " + deadline)
                : new CancellationException("scope '" + name + "' was " + c.describe());
        for (Throwable later : laterFailures) {
            thrown.addSuppressed(later);
        }
        if (thrown instanceof TimeoutException te) {
            throw te;
        }
        throw (CancellationException) thrown;
    }

    /**
     * Cancels the scope: interrupts every running fork; later forks are refused; a later {@link #join()} throws
     * {@link CancellationException}. Has no effect if the scope was already cancelled, or failed. Never waits; call
     * {@link #join()} to wait.
     */
    public void cancel() {
        cancel(new Cancelled(Cancelled.Reason.CANCELLED));
    }

    private void cancel(Ending cause) {
        if (ending.compareAndSet(null, cause)) {
            interruptAll();
            // Wake a joiner so that it switches to the post-cancellation wait.
            lock.lock();
            try {
                quiescent.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private void interruptAll() {
        Thread self = Thread.currentThread();
        for (Thread t : live) {
            if (t != self) {
                t.interrupt();
            }
        }
    }

    /**
     * Whether the scope has been cancelled, by any cause (a failure included).
     *
     * @return {@code true} once a failure, {@link #cancel()}, the deadline or {@link #close()} has cancelled it;
     *     never false again
     */
    public boolean isCancelled() {
        return ending.get() != null;
    }

    /**
     * The number of forked threads that have not yet terminated. 0 after {@code join()} or {@code close()}.
     *
     * @return the forks whose threads are still alive, a moment's snapshot
     */
    public int activeCount() {
        Thread last = lastExited.get();
        return running.get() + (last != null && last.isAlive() ? 1 : 0);
    }

    /**
     * Closes the scope to new forks, cancels whatever still runs, and waits for every fork to end, and for the
     * deadline's watcher, if any (uninterruptibly: no thread may outlive the scope; an interrupt is remembered and
     * restored). Idempotent.
     *
     * @throws IllegalStateException if called from one of this scope's forks
     */
    @Override
    public void close() {
        if (live.contains(Thread.currentThread())) {
            throw new IllegalStateException(
                    "close() called from a fork of scope '" + name + "': it would wait for itself");
        }
        // closed first, then running read; fork() increments running, then reads closed: with both volatile, a
        // fork either sees the scope closed and gives up, or is seen running here and is cancelled and awaited.
        closed = true;
        if (running.get() > 0) {
            cancel(new Cancelled(Cancelled.Reason.CLOSED));
        }
        awaitForksAfterCancel();
        if (endDeadlineWatcher()) {
            Thread.currentThread().interrupt();
        }
        Ending e = ending.get();
        if (!endingReported && e instanceof Failed failed) {
            endingReported = true;
            log.warn("scope '{}' closed with a failure that no join() reported", name, failed.cause());
        } else if (!endingReported && e != null && !laterFailures.isEmpty()) {
            endingReported = true;
            for (Throwable later : laterFailures) {
                log.warn(
                        "scope '{}' closed with a failure of a fork after it was {}, which no join() reported",
                        name,
                        e.describe(),
                        later);
            }
        }
    }

    @Override
    public String toString() {
        Ending e = ending.get();
        return "Scope[" + name + ", active=" + activeCount() + (e != null ? ", " + e.describe() : "") + "]";
    }

    private void forkEnded() {
        if (running.decrementAndGet() == 0) {
            lock.lock();
            try {
                quiescent.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private void forkFailed(Throwable failure) {
        if (ending.compareAndSet(null, new Failed(failure))) {
            interruptAll();
            lock.lock();
            try {
                quiescent.signalAll();
            } finally {
                lock.unlock();
            }
            return;
        }
        Ending first = ending.get();
        Throwable primary = first instanceof Failed f ? f.cause() : null;
        if (isEchoOfCancellation(failure, primary)) {
            return;
        }
        if (primary != null) {
            primary.addSuppressed(failure);
        } else {
            laterFailures.add(failure);
        }
    }

    private static boolean isEchoOfCancellation(Throwable t, Throwable primary) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c == primary
                    || c instanceof InterruptedException
                    || c instanceof CancellationException
                    || c instanceof ClosedByInterruptException
                    || (c instanceof InterruptedIOException && c.getClass() == InterruptedIOException.class)) {
                return true;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return false;
    }

    private static Duration betweenSaturated(Instant from, Instant to) {
        try {
            return Duration.between(from, to);
        } catch (ArithmeticException tooFar) {
            return to.isAfter(from) ? Duration.ofSeconds(Long.MAX_VALUE) : Duration.ZERO;
        }
    }

    private static Instant saturatedPlus(Instant now, Duration d) {
        try {
            return now.plus(d);
        } catch (java.time.DateTimeException | ArithmeticException tooFar) {
            return Instant.MAX;
        }
    }

    private static boolean joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        for (; ; ) {
            try {
                t.join();
                return interrupted;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
    }

    /** The body of every forked thread. */
    private final class ForkTask<T> implements Fork<T>, Runnable {
        private final String forkName;
        private final Callable<? extends T> task;
        private final CallerContext context;
        private volatile boolean done;
        private volatile T result;
        private volatile Throwable failure;

        ForkTask(String forkName, Callable<? extends T> task, CallerContext context) {
            this.forkName = forkName;
            this.task = task;
            this.context = context;
        }

        @Override
        public void run() {
            Thread self = Thread.currentThread();
            CallerContext.Restored restored = context.restore();
            try {
                Ending e = ending.get();
                if (e != null) {
                    failure = new CancellationException(
                            "scope '" + name + "' was " + e.describe() + " before the fork started");
                } else {
                    result = task.call();
                }
            } catch (Throwable t) {
                failure = t;
                forkFailed(t);
            } finally {
                done = true;
                restored.close();
                MDC.clear(); // a task's own MDC entries end with it too
                // Chain of terminations: wait for the previously ended fork's thread to terminate, so that when
                // the last fork is seen terminated by a joiner, every earlier one is terminated too.
                Thread previous = lastExited.getAndSet(self);
                if (previous != null) {
                    joinUninterruptibly(previous);
                }
                live.remove(self);
                forkEnded();
            }
        }

        @Override
        public String name() {
            return forkName;
        }

        @Override
        public boolean isDone() {
            return done;
        }

        @Override
        public T result() {
            if (!done) {
                throw new IllegalStateException("fork '" + forkName + "' has not finished");
            }
            Throwable f = failure;
            if (f != null) {
                throw new IllegalStateException("fork '" + forkName + "' did not complete normally", f);
            }
            return result;
        }

        @Override
        public Optional<Throwable> failure() {
            return done ? Optional.ofNullable(failure) : Optional.empty();
        }

        @Override
        public String toString() {
            return "Fork[" + name + "/" + forkName + (done ? failure == null ? ", completed" : ", failed" : ", running")
                    + "]";
        }
    }

    private sealed interface Ending permits Failed, Cancelled {
        String describe();
    }

    private record Failed(Throwable cause) implements Ending {
        @Override
        public String describe() {
            return "cancelled after a fork failed (" + cause + ")";
        }
    }

    private record Cancelled(Reason reason) implements Ending {
        enum Reason {
            CANCELLED("cancelled"),
            DEADLINE("cancelled at its deadline"),
            INTERRUPTED("cancelled because its joining thread was interrupted"),
            CLOSED("closed while forks were running");

            final String text;

            Reason(String text) {
                this.text = text;
            }
        }

        @Override
        public String describe() {
            return reason.text;
        }
    }

    /** Options for a {@link Scope}. Not thread-safe; {@link #open()} may be called many times. */
    public static final class Builder {
        private String name;
        private Instant deadline;
        private Duration timeout;
        /** Null for the default: virtual threads that inherit inheritable thread-locals only if context propagates. */
        private ThreadFactory threadFactory;

        private Duration stragglerReportInterval = Duration.ofSeconds(10);
        private Consumer<Thread> onStraggler;
        private boolean propagateContext = true;

        private Builder() {}

        /**
         * The scope's name, the prefix of its threads' names. Default {@code scope-<n>}.
         *
         * @param name the scope's name
         * @return this builder
         * @throws NullPointerException if {@code name} is {@code null}
         */
        public Builder name(String name) {
            this.name = Require.nonNull(name, "name");
            return this;
        }

        /**
         * A deadline: the forks still running when it passes are cancelled then, whether or not a thread waits in
         * {@link #join()} (see the class comment). Replaces a {@link #timeout(Duration)}.
         *
         * @param deadline the wall-clock instant; one already past makes the first fork cancel the scope
         * @return this builder
         * @throws NullPointerException if {@code deadline} is {@code null}
         */
        public Builder deadline(Instant deadline) {
            this.deadline = Require.nonNull(deadline, "deadline");
            this.timeout = null;
            return this;
        }

        /**
         * A deadline {@code timeout} after {@link #open()}. Replaces a {@link #deadline(Instant)}.
         *
         * @param timeout how long after opening the scope its forks are cancelled
         * @return this builder
         * @throws IllegalArgumentException if {@code timeout} is not positive
         */
        public Builder timeout(Duration timeout) {
            Require.positive(timeout, "timeout");
            this.deadline = null;
            this.timeout = timeout;
            return this;
        }

        /**
         * Where the threads come from; the scope names them. Default: virtual threads, which inherit the forking
         * thread's {@code InheritableThreadLocal} values only while {@link #propagateContext} is on. Pass
         * {@code Thread.ofPlatform().factory()} for platform threads.
         *
         * @param threadFactory makes one thread per fork (and the deadline's watcher); it must not return {@code null}
         * @return this builder
         * @throws NullPointerException if {@code threadFactory} is {@code null}
         */
        public Builder threadFactory(ThreadFactory threadFactory) {
            this.threadFactory = Require.nonNull(threadFactory, "threadFactory");
            return this;
        }

        /**
         * How often a fork that ignores cancellation is reported while the scope waits for it. Default 10 s.
         *
         * @param interval the time between two reports of the same straggler
         * @return this builder
         * @throws IllegalArgumentException if {@code interval} is not positive
         */
        public Builder stragglerReportInterval(Duration interval) {
            Require.positive(interval, "stragglerReportInterval");
            this.stragglerReportInterval = interval;
            return this;
        }

        /**
         * Called with each straggling thread, on the waiting thread, besides the WARN log line.
         *
         * @param onStraggler receives each fork thread that has not ended, once per report interval
         * @return this builder
         * @throws NullPointerException if {@code onStraggler} is {@code null}
         */
        public Builder onStraggler(Consumer<Thread> onStraggler) {
            this.onStraggler = Require.nonNull(onStraggler, "onStraggler");
            return this;
        }

        /**
         * Whether each fork starts with the forking thread's context (its MDC and the thread-locals of
         * context-propagation's global registry; see the class comment). Default {@code true}; with {@code false} a
         * fork starts with an empty MDC and no thread-local of its caller, not even an {@code InheritableThreadLocal}'s
         * value (unless a {@link #threadFactory} of your own makes threads that inherit them).
         *
         * @param propagate whether to carry the forking thread's context into each fork
         * @return this builder
         * @since 0.1
         */
        public Builder propagateContext(boolean propagate) {
            this.propagateContext = propagate;
            return this;
        }

        /**
         * Opens a scope with these options.
         *
         * @return a new, open scope; a timeout starts counting now
         */
        public Scope open() {
            return new Scope(this);
        }
    }
}
