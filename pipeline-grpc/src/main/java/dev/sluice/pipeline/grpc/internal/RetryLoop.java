package dev.sluice.pipeline.grpc.internal;

import dev.sluice.pipeline.grpc.GrpcCallException;
import dev.sluice.pipeline.grpc.ResilienceOptions;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.grpc.CallOptions;
import io.grpc.Context;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import jdk.jfr.Event;
import org.slf4j.Logger;

/**
 * The retry loop of every call the module makes, a {@code GrpcSource}'s stream and a {@code GrpcUnary}'s call alike:
 * after each attempt it settles the attempt with the circuit breaker, and decides whether to call again, when, and
 * why not. The attempt itself (a stream with its flow control, or one unary exchange) is a function the caller
 * passes in. One loop per call; not thread-safe (it runs on the calling thread).
 *
 * <h2>Attempts wait for the channel, from the second on</h2>
 * After a refused connection, grpc-java fails every new call at once until its reconnect backoff has passed (about
 * 1 s, growing 1.6 times with each refusal), so retries made on a schedule of 100, 200, 400 ms would all fail
 * against a server that is back within 2 s. The first attempt is made with the caller's options as they are; every
 * later one (a retry or a resume) waits for the channel to be ready ({@link CallOptions#withWaitForReady()}),
 * bounded by its own deadline: a unary attempt's deadline, or a stream's request timeout, which bounds the wait for
 * its first message. An attempt whose bound passes before it reached a connection fails with UNAVAILABLE ("no
 * connection"), and is retried or not like any other UNAVAILABLE. A target that stays unreachable therefore fails
 * the call after the first attempt plus, for each retry, its backoff and the request timeout.
 *
 * <h2>What the breaker records</h2>
 * The rule stated in {@code GrpcCircuitBreakers}, for streams and unary calls alike; {@code settle} is its only
 * implementation.
 *
 * <h2>What is retried</h2>
 * A failure whose code is in the status table, and a stream idle timeout, with backoff, at most
 * {@code maxRetryAttempts} times in a row without an item; a response that could not be parsed never is (the same
 * bytes would come again), nor a TLS handshake that failed on a certificate (the same certificates would fail
 * again; grpc-java reports it as UNAVAILABLE, which the status table would otherwise retry). A stream that broke past
 * its first item is resumed only with a resume strategy. Nothing is retried once the gRPC {@code Context} the loop
 * runs in is cancelled or past its deadline: a served call that ended, a caller that gave up.
 */
public final class RetryLoop {

    /** One attempt of a call: it makes the call with {@link Attempt#callOptions} and says how the call ended. */
    @FunctionalInterface
    public interface Call<T> {
        Outcome<T> attempt(Attempt attempt) throws InterruptedException;
    }

    /** How an attempt ended. */
    public sealed interface Outcome<T> permits Success, Failure {}

    /** The call completed with {@code value} (null for a stream). */
    public record Success<T>(T value) implements Outcome<T> {}

    /**
     * The call failed.
     *
     * @param status what it failed with
     * @param kind how the loop treats it
     * @param delivered items the call passed downstream before it failed (0 for a unary call)
     */
    public record Failure<T>(Status status, Kind kind, long delivered) implements Outcome<T> {}

    /** How a failure is treated. */
    public enum Kind {
        /** By the status table: retried if its code is in it. */
        STATUS,
        /** A stream silent for the request timeout while messages were requested: always retryable. */
        IDLE,
        /** A response the client could not parse: never retried. */
        UNPARSABLE,
        /**
         * A TLS handshake that failed on a certificate (untrusted, expired, refused by the peer): never retried (the same
         * certificates would fail again), and neutral for the breaker (the target is not unhealthy, the setup is wrong).
         */
        SECURITY
    }

    private final String method;
    private final boolean stream;
    private final ResilienceOptions options;
    private final CircuitBreaker breaker;
    private final boolean resumable;
    private final Supplier<GrpcMeters> meters;
    private final Logger log;

    private int attempts;
    private int resumes;
    private long delivered;
    /** What the current attempt's client-streaming call has sent ({@link #sentInCall}); 0 for other calls. */
    private long sentInCall;

    private Status.Code lastCode = Status.Code.UNKNOWN;

    /**
     * @param options null for one attempt
     * @param breaker null for none
     * @param resumable whether a stream that broke past its first item may be continued
     * @param meters looked up when the first retry is counted
     * @param log the logger of the public class the call belongs to
     */
    public RetryLoop(
            MethodDescriptor<?, ?> method,
            ResilienceOptions options,
            CircuitBreaker breaker,
            boolean resumable,
            Supplier<GrpcMeters> meters,
            Logger log) {
        this.method = method.getFullMethodName();
        this.stream = method.getType() == MethodDescriptor.MethodType.SERVER_STREAMING;
        this.options = options;
        this.breaker = breaker;
        this.resumable = resumable;
        this.meters = meters;
        this.log = log;
    }

    /**
     * Makes the call, retrying as the options allow.
     *
     * @return the value of the attempt that succeeded
     * @throws GrpcCallException if the call failed for good
     * @throws InterruptedException if the thread was interrupted in an attempt or a backoff; nothing is retried
     */
    public <T> T run(Call<T> call) throws InterruptedException {
        CircuitGate gate = new CircuitGate(breaker);
        int retriesWithoutProgress = 0;
        for (; ; ) {
            try {
                gate.enter();
            } catch (CallNotPermittedException open) {
                lastCode = Status.Code.UNAVAILABLE;
                throw new GrpcCallException(
                        Status.UNAVAILABLE
                                .withDescription("circuit breaker open")
                                .withCause(open),
                        method,
                        attempts,
                        delivered + sentInCall,
                        "the circuit breaker '" + breaker.getName() + "' is " + breaker.getState()
                                + ", so the call fails fast",
                        open);
            }
            attempts++;
            sentInCall = 0;
            Outcome<T> outcome;
            try {
                outcome = call.attempt(new Attempt(attempts, delivered > 0, gate));
            } catch (InterruptedException | RuntimeException | Error e) {
                gate.neutral();
                lastCode = e instanceof InterruptedException ? Status.Code.CANCELLED : Status.Code.UNKNOWN;
                throw e;
            }
            if (outcome instanceof Success<T> success) {
                gate.progress();
                lastCode = Status.Code.OK;
                return success.value();
            }
            Failure<T> failure = (Failure<T>) outcome;
            Status status = failure.status();
            lastCode = status.getCode();
            delivered += failure.delivered();
            boolean progressed = failure.delivered() > 0;
            settle(gate, failure, progressed);
            if (options == null) {
                throw failed(
                        status,
                        stream
                                ? "the source has no ResilienceOptions, so it makes one call"
                                : "the call has no ResilienceOptions, so it makes one attempt");
            }
            if (failure.kind() == Kind.SECURITY) {
                throw failed(
                        status,
                        "the TLS handshake failed on a certificate, which is never retried (the same certificates"
                                + " would fail again): check the trust store and the key pair on both sides");
            }
            if (failure.kind() == Kind.UNPARSABLE) {
                throw failed(
                        status,
                        "a response that cannot be parsed is never retried (the same bytes would come" + " again)");
            }
            if (failure.kind() == Kind.STATUS && !options.isRetryable(status.getCode())) {
                throw failed(
                        status,
                        status.getCode() + " is not retryable (the status table retries " + options.retryableCodes()
                                + ")");
            }
            if (delivered > 0 && !resumable) {
                throw failed(
                        status,
                        "the stream broke after its first item and the source has no ResumeStrategy, so it cannot"
                                + " continue without repeating items");
            }
            Context context = Context.current();
            if (context.isCancelled()) {
                throw failed(
                        status,
                        context.getDeadline() != null && context.getDeadline().isExpired()
                                ? "the gRPC Context the call runs in passed its deadline, so it is not retried"
                                : "the gRPC Context the call runs in was cancelled, so it is not retried");
            }
            if (progressed) {
                retriesWithoutProgress = 0;
            }
            retriesWithoutProgress++;
            if (retriesWithoutProgress > options.maxRetryAttempts()) {
                throw failed(
                        status,
                        "gave up after " + options.maxRetryAttempts()
                                + (stream ? " retries in a row without an item" : " retries") + " (maxRetryAttempts)");
            }
            backOff(status, failure.delivered(), retriesWithoutProgress);
        }
    }

    /** What the breaker records for a failed attempt: the rule of {@code GrpcCircuitBreakers}, for every call. */
    private void settle(CircuitGate gate, Failure<?> failure, boolean progressed) {
        if (progressed) {
            gate.progress(); // already settled at the first item; a no-op then
        } else {
            settleFailure(gate, failure, options);
        }
    }

    /**
     * Settles {@code gate} for a call that failed before any progress, by the rule of {@code GrpcCircuitBreakers}: a
     * TLS failure over a certificate is neutral; a response that could not be parsed, an idle stream, a deadline, or a
     * code the status table retries is a failure; any other code is neutral.
     *
     * @param options the call's options, or null for a call made once (the default status table then applies)
     */
    public static void settleFailure(CircuitGate gate, Failure<?> failure, ResilienceOptions options) {
        Status.Code code = failure.status().getCode();
        if (failure.kind() == Kind.SECURITY) {
            gate.neutral();
        } else if (failure.kind() != Kind.STATUS
                || code == Status.Code.DEADLINE_EXCEEDED
                || (options == null
                        ? ResilienceOptions.DEFAULT_RETRYABLE_CODES.contains(code)
                        : options.isRetryable(code))) {
            gate.failure(failure.status().asRuntimeException());
        } else {
            gate.neutral();
        }
    }

    private void backOff(Status status, long deliveredInCall, int retry) throws InterruptedException {
        Duration wait = options.jitteredBackoff(retry);
        boolean resuming = delivered > 0;
        if (stream) {
            log.warn(
                    "gRPC {} ended with {} after {} items in this call; {} {} of {} in {} ms",
                    method,
                    status.getCode(),
                    deliveredInCall,
                    resuming ? "resume" : "retry",
                    retry,
                    options.maxRetryAttempts(),
                    wait.toMillis());
        } else {
            log.warn(
                    "gRPC {} failed with {}; retry {} of {} in {} ms",
                    method,
                    status.getCode(),
                    retry,
                    options.maxRetryAttempts(),
                    wait.toMillis());
        }
        Event recorded = resuming // null unless a flight recording takes it
                ? GrpcResumeEvent.backingOff(method, attempts, status, delivered, deliveredInCall, wait)
                : GrpcRetryEvent.backingOff(method, attempts, retry, options.maxRetryAttempts(), status, wait);
        try {
            options.sleeper().sleep(wait);
        } catch (InterruptedException e) {
            lastCode = Status.Code.CANCELLED;
            throw e;
        } finally {
            if (recorded != null) {
                recorded.commit();
            }
        }
        if (resuming) {
            resumes++;
            meters.get().resumed();
        } else {
            meters.get().retried();
        }
    }

    private GrpcCallException failed(Status status, String reason) {
        return new GrpcCallException(
                status, method, attempts, delivered + sentInCall, reason, status.asRuntimeException());
    }

    /**
     * A client-streaming attempt's count of the items its call has sent: the exception of a call that fails for good
     * reports it as the items delivered. Not progress: a call that sent items is retried whole, like any other.
     */
    public void sentInCall(long items) {
        sentInCall = items;
    }

    /** Calls started so far, the current one included. */
    public int attempts() {
        return attempts;
    }

    /** Calls that resumed the stream after a delivered item, so far. */
    public int resumes() {
        return resumes;
    }

    /**
     * How the last call ended: OK, the status it failed with, CANCELLED if the thread was interrupted, UNAVAILABLE
     * if the breaker refused it, UNKNOWN if the attempt threw.
     */
    public Status.Code lastCode() {
        return lastCode;
    }

    /**
     * A failure of a call that ended with {@code status} after delivering {@code delivered} items: of its own kind if
     * a response could not be parsed (reported as INTERNAL), else judged by the status table.
     */
    public static <T> Failure<T> failure(Status status, long delivered) {
        if (ResponseParsing.unparsable(status)) {
            return new Failure<>(ResponseParsing.failureStatus(status), Kind.UNPARSABLE, delivered);
        }
        if (failedOnACertificate(status.getCause())) {
            return new Failure<>(status, Kind.SECURITY, delivered);
        }
        return new Failure<>(status, Kind.STATUS, delivered);
    }

    /**
     * Whether the cause chain holds a TLS failure over a certificate: a handshake exception, a certificate exception,
     * or a TLS alert about a certificate (OpenSSL reports the peer's {@code bad_certificate},
     * {@code certificate_required} or {@code unknown_ca} as an {@code SSLException} whose message names the alert).
     * Other TLS exceptions (an engine closed by a server going away) stay with the status table.
     */
    private static boolean failedOnACertificate(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SSLHandshakeException || t instanceof CertificateException) {
                return true;
            }
            if (t instanceof SSLException && t.getMessage() != null) {
                String message = t.getMessage().toUpperCase(Locale.ROOT);
                if (message.contains("CERTIFICATE") || message.contains("UNKNOWN_CA")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The failure of an attempt that waited for the channel for {@code bound} and never reached a connection. */
    public static <T> Failure<T> noConnection(Duration bound, String what) {
        return new Failure<>(
                Status.UNAVAILABLE.withDescription("no connection to the target within " + bound.toMillis() + " ms ("
                        + what + ") while waiting for the channel to be ready"),
                Kind.STATUS,
                0);
    }

    /** One attempt: its number, its call options, and the breaker's gate to settle as soon as it makes progress. */
    public static final class Attempt {
        private final int number;
        private final boolean resume;
        private final CircuitGate gate;
        private ConnectionWatch watch;

        private Attempt(int number, boolean resume, CircuitGate gate) {
            this.number = number;
            this.resume = resume;
            this.gate = gate;
        }

        /** 1 for the first call. */
        public int number() {
            return number;
        }

        /** Whether this call continues a stream after the items delivered so far. */
        public boolean isResume() {
            return resume;
        }

        /**
         * The options to make this attempt's call with: {@code base} for the first, unless it already waits for
         * ready; every later attempt waits for the channel to be ready, and is watched so that {@link #neverConnected}
         * can tell a target that could not be reached from one that did not answer.
         */
        public CallOptions callOptions(CallOptions base) {
            if (number == 1 && !base.isWaitForReady()) {
                return base;
            }
            watch = new ConnectionWatch();
            return base.withWaitForReady().withStreamTracerFactory(watch);
        }

        /** Whether the call waited for the channel to be ready and ended without reaching a connection. */
        public boolean neverConnected() {
            return watch != null && !watch.connected();
        }

        /** The call made progress (its first item): the breaker records a success at once. */
        public void progressed() {
            gate.progress();
        }
    }
}
