package dev.sluice.pipeline.examples.demo;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.grpc.ServerStreams;
import dev.sluice.pipeline.proto.workflow.GetUsersOnlineStreamRequest;
import dev.sluice.pipeline.proto.workflow.GetUsersRequest;
import dev.sluice.pipeline.proto.workflow.GetUsersResponse;
import dev.sluice.pipeline.proto.workflow.User;
import dev.sluice.pipeline.proto.workflow.WorkflowServiceGrpc;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's server: the seed document's workflow service over a population of users generated on demand (user
 * {@code i} is computed from {@code i}, so a million users cost no memory). The stream is served by a Sluice
 * pipeline, paced by the call's flow control. Fault injection ({@code failEvery}) lives here, never in the library.
 */
final class UserDirectory extends WorkflowServiceGrpc.WorkflowServiceImplBase {

    private static final Logger log = LoggerFactory.getLogger(UserDirectory.class);
    private static final int DEFAULT_PAGE = 100;
    private static final int MAX_PAGE = 1_000;

    private final long population;
    private final long failEvery;
    /** The highest user index any call has produced so far: how far the server's producer has got. */
    private final AtomicLong highestProduced = new AtomicLong(-1);

    private final AtomicLong calls = new AtomicLong();

    UserDirectory(long population, long failEvery) {
        this.population = population;
        this.failEvery = failEvery;
    }

    static User user(long i) {
        return User.newBuilder()
                .setUserId(String.format("user-%09d", i))
                .setName("User " + i)
                .setEmail("user" + i + "@example.com")
                .setOnline(i % 4 != 0)
                .setCursor(Long.toString(i))
                .build();
    }

    @Override
    public void getUsersOnlineStream(GetUsersOnlineStreamRequest request, StreamObserver<User> responses) {
        long first = firstAfter(request.getResumeAfter());
        long call = calls.incrementAndGet();
        log.info("GetUsersOnlineStream call {} serves users from {}", call, first);
        Source<User> users = emitter -> {
            for (long i = first; i < population; i++) {
                if (failEvery > 0 && i - first == failEvery) {
                    throw Status.UNAVAILABLE
                            .withDescription("injected fault after " + failEvery + " users")
                            .asRuntimeException();
                }
                emitter.emit(user(i));
                highestProduced.accumulateAndGet(i, Math::max);
            }
        };
        ServerStreams.serve(Pipeline.from(users).pipelineName("GetUsersOnlineStream"), responses);
    }

    @Override
    public void getUsers(GetUsersRequest request, StreamObserver<GetUsersResponse> responses) {
        int size = request.getPageSize() <= 0 ? DEFAULT_PAGE : Math.min(request.getPageSize(), MAX_PAGE);
        long first = request.getPageToken().isEmpty() ? 0 : firstAfter(request.getPageToken());
        GetUsersResponse.Builder page = GetUsersResponse.newBuilder();
        long end = Math.min(population, first + size);
        for (long i = first; i < end; i++) {
            page.addUsers(user(i));
        }
        if (end < population) {
            page.setNextPageToken(Long.toString(end - 1));
        }
        responses.onNext(page.build());
        responses.onCompleted();
    }

    /** The index after a cursor; a malformed cursor is the client's error (INVALID_ARGUMENT). */
    private long firstAfter(String cursor) {
        if (cursor.isEmpty()) {
            return 0;
        }
        try {
            long last = Long.parseLong(cursor);
            if (last < 0 || last >= population) {
                throw new IllegalArgumentException("cursor out of range: " + last);
            }
            return last + 1;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("malformed cursor (" + cursor.length() + " characters)");
        }
    }

    long highestProduced() {
        return highestProduced.get();
    }

    long calls() {
        return calls.get();
    }
}
