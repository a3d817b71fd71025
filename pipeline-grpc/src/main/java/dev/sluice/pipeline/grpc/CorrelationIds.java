package dev.sluice.pipeline.grpc;

import dev.sluice.pipeline.grpc.internal.CorrelationClientInterceptor;
import dev.sluice.pipeline.grpc.internal.CorrelationServerInterceptor;
import io.grpc.ClientInterceptor;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerInterceptor;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Correlation IDs across gRPC calls, in the metadata key {@value #HEADER_NAME}.
 *
 * <pre>{@code
 * Channel channel = ClientInterceptors.intercept(managedChannel, CorrelationIds.clientInterceptor());
 * Server server = ServerBuilder.forPort(port)
 *     .addService(ServerInterceptors.intercept(service, CorrelationIds.serverInterceptor()))
 *     .build();
 * }</pre>
 *
 * <ul>
 *   <li>The <b>client interceptor</b> sends, with each call, the correlation ID of the pipeline run whose stage
 *       thread starts the call ({@code StageContext.current()}); off a stage thread, the ID of the gRPC
 *       {@code Context} (a server handler calling further), else the SLF4J MDC's {@code correlationId}; else
 *       none.</li>
 *   <li>The <b>server interceptor</b> reads it, validates it, and makes it the call's: in the gRPC
 *       {@code Context} ({@link #current()}) and, around every callback of the call, in the MDC under
 *       {@code correlationId}. A server without an ID from the client gets a fresh one. It sends the ID it used
 *       back in the response headers (in the trailers if the call ends before any header was sent).</li>
 *   <li>A {@link GrpcSource} or {@link GrpcUnary} reads that echo. When the server used another ID than the one
 *       its caller sends (the run's, or off a stage thread the server call's or the MDC's), it logs the server's
 *       ID at INFO (at DEBUG if the caller had none) and, on a stage thread, records it in the run's summary as
 *       {@value #ATTRIBUTE_SERVER_CORRELATION_ID} (the last such ID of the run), which the audit trail keeps with
 *       the run's other attributes. This needs no client interceptor: a run whose ID never reached the server
 *       learns the server's.</li>
 *   <li><b>Validation</b>: a value longer than {@value #MAX_LENGTH} characters or with a character outside
 *       {@code [A-Za-z0-9._:-]} is replaced (by a fresh random UUID on the server; by a UUID derived from it on
 *       the client, so that one run keeps one ID). The value is never logged raw: the warning gives only its
 *       length and the replacement.</li>
 * </ul>
 * Both interceptors are stateless and thread-safe; install each once per channel or service.
 *
 * @since 0.1
 */
public final class CorrelationIds {

    /** The metadata key's name. */
    public static final String HEADER_NAME = "x-correlation-id";
    /** The metadata key. */
    public static final Metadata.Key<String> HEADER = Metadata.Key.of(HEADER_NAME, Metadata.ASCII_STRING_MARSHALLER);
    /** The longest correlation ID accepted. */
    public static final int MAX_LENGTH = 128;
    /**
     * Summary attribute: the correlation ID a server used for a call of the run when it was not the run's own (see
     * the class comment); absent while every server used the run's.
     */
    public static final String ATTRIBUTE_SERVER_CORRELATION_ID = "grpc.serverCorrelationId";
    /** The key under which the server interceptor stores the call's correlation ID in the gRPC {@code Context}. */
    public static final Context.Key<String> CONTEXT_KEY = Context.key("sluice-correlation-id");

    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9._:-]{1," + MAX_LENGTH + "}");

    private CorrelationIds() {}

    /**
     * Whether {@code value} may be used as a correlation ID as it is: 1 to 128 characters of {@code [A-Za-z0-9._:-]}.
     *
     * @param value the candidate ID; {@code null} is allowed and is not valid
     * @return {@code true} if the interceptors would pass {@code value} on unchanged, {@code false} if they would
     *     replace it
     */
    public static boolean isValid(String value) {
        return value != null
                && value.length() <= MAX_LENGTH
                && VALID.matcher(value).matches();
    }

    /**
     * The correlation ID of the current gRPC call on a server with {@link #serverInterceptor()}, if any.
     *
     * @return the ID read from the calling thread's gRPC {@code Context}; empty outside a call's callbacks or on a
     *     service without the server interceptor
     */
    public static Optional<String> current() {
        return Optional.ofNullable(CONTEXT_KEY.get());
    }

    /**
     * The client interceptor (see the class comment).
     *
     * @return a shared, stateless interceptor that attaches the caller's correlation ID to each call
     */
    public static ClientInterceptor clientInterceptor() {
        return CorrelationClientInterceptor.INSTANCE;
    }

    /**
     * The server interceptor (see the class comment).
     *
     * @return a shared, stateless interceptor that validates or creates the call's correlation ID and echoes it back
     */
    public static ServerInterceptor serverInterceptor() {
        return CorrelationServerInterceptor.INSTANCE;
    }
}
