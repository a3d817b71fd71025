package dev.sluice.pipeline.examples.demo;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.grpc.ServerStreams;
import dev.sluice.pipeline.proto.workflow.UploadUsersResponse;
import dev.sluice.pipeline.proto.workflow.User;
import dev.sluice.pipeline.proto.workflow.WorkflowServiceGrpc;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upload's server: {@code UploadUsers} served by a Sluice pipeline ({@link ServerStreams#clientStreaming}) that
 * takes each user in a stage of its own and answers, once the client half-closes, with what it received: the count,
 * the users that came out of {@code user_id} order (a repeat, since the client sends them in that order), and a
 * checksum of the IDs.
 *
 * <p>Slow phase: once it has taken {@code slowFrom} users, the taking stage spends a millisecond on each user for
 * {@code slowMillis}, so the client, much faster, gets as far ahead as flow control lets it and waits.
 *
 * <p>What can sit between the client's {@code sendMessage} and the taking stage is bounded by {@link #PREFETCH}
 * messages requested and buffered, {@link #LINK} in the link before the stage, one in the source's hand, and the
 * bytes of the HTTP/2 window ({@link #WINDOW}) and of the client's send queue (gRPC reports the call not ready past
 * {@link #READY_THRESHOLD} bytes, and a message sent while ready can go past it): see {@link #bound(int)}.
 */
final class UserReceiver extends WorkflowServiceGrpc.WorkflowServiceImplBase {

    private static final Logger log = LoggerFactory.getLogger(UserReceiver.class);

    /** The server's HTTP/2 flow-control window, fixed (no auto-tuning) so that the bound is known. */
    static final int WINDOW = 64 * 1024;
    /** The bytes a grpc-java client stream queues before it reports not ready. */
    static final int READY_THRESHOLD = 32 * 1024;
    /** The client messages the server requests ahead. */
    static final int PREFETCH = 64;
    /** The link between the server's source and its taking stage. */
    static final int LINK = 16;
    /** A gRPC message's frame header: a flag byte and a 4-byte length. */
    static final int FRAME_HEADER = 5;

    private final long slowFrom;
    private final long slowNanos;
    private final AtomicLong taken = new AtomicLong();
    private volatile long slowStartNanos;
    private volatile long slowUsers;
    private volatile boolean slowOver;

    UserReceiver(long slowFrom, long slowMillis) {
        this.slowFrom = slowFrom;
        this.slowNanos = TimeUnit.MILLISECONDS.toNanos(slowMillis);
        this.slowOver = slowMillis == 0;
    }

    /**
     * The most users that can have been sent and not yet taken, for messages of at least {@code smallestMessage}
     * bytes (protobuf size, without the frame header).
     */
    static long bound(int smallestMessage) {
        return PREFETCH + LINK + 1 + (WINDOW + READY_THRESHOLD) / (smallestMessage + FRAME_HEADER) + 2;
    }

    /** How the bound is made, for the summary. */
    static String boundParts(int smallestMessage) {
        return PREFETCH + " requested + " + LINK + " in the server's link + 1 in hand + "
                + (WINDOW + READY_THRESHOLD) / 1024 + " KiB of HTTP/2 window and send queue / "
                + (smallestMessage + FRAME_HEADER) + "-byte messages + 2";
    }

    /** Users the taking stage has taken, over all calls. */
    long taken() {
        return taken.get();
    }

    /** "slow" during the slow phase, "fast" otherwise. */
    String phase() {
        return slowStartNanos != 0 && !slowOver ? "slow" : "fast";
    }

    /** Users taken during the slow phase. */
    long slowUsers() {
        return slowUsers;
    }

    @Override
    public StreamObserver<User> uploadUsers(StreamObserver<UploadUsersResponse> responses) {
        return ServerStreams.clientStreaming(
                responses,
                PREFETCH,
                users -> Pipeline.from(users)
                        .pipelineName("users-upload-server")
                        .buffer(LINK)
                        .map(this::take)
                        .named("take")
                        .to(Sink.of(context -> new Tally())));
    }

    private User take(User user) throws InterruptedException {
        long n = taken.incrementAndGet();
        if (!slowOver && n > slowFrom) {
            long now = System.nanoTime();
            if (slowStartNanos == 0) {
                slowStartNanos = now;
                log.info("server: slow phase begins after {} users: a millisecond per user", n - 1);
            }
            if (now - slowStartNanos < slowNanos) {
                slowUsers++;
                Thread.sleep(1);
            } else {
                slowOver = true;
                log.info("server: slow phase over after {} users; full speed again", slowUsers);
            }
        }
        return user;
    }

    /** Counts what the call received; its value is the call's response. One thread (the sink's). */
    private static final class Tally implements Sink.Writer<User, UploadUsersResponse> {
        private long received;
        private long outOfOrder;
        private long checksum;
        private String previous;

        @Override
        public void write(User user) {
            received++;
            String id = user.getUserId();
            if (previous != null && id.compareTo(previous) <= 0) {
                outOfOrder++;
            }
            previous = id;
            checksum += id.hashCode();
        }

        @Override
        public UploadUsersResponse complete() {
            return UploadUsersResponse.newBuilder()
                    .setReceived(received)
                    .setOutOfOrder(outOfOrder)
                    .setIdChecksum(checksum)
                    .build();
        }
    }
}
