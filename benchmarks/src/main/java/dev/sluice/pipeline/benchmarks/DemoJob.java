package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.Sink;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.grpc.GrpcSource;
import dev.sluice.pipeline.grpc.ResilienceOptions;
import dev.sluice.pipeline.proto.workflow.GetUsersOnlineStreamRequest;
import dev.sluice.pipeline.proto.workflow.User;
import dev.sluice.pipeline.proto.workflow.WorkflowServiceGrpc;
import io.grpc.Channel;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The end-to-end benchmark's workloads: the examples' demo job, built from Sluice's public API as the demo builds it,
 * and each of its parts alone on the same users. The job: the users streamed by a gRPC server ({@link
 * UserStreamServer}) read by a {@link GrpcSource} (prefetch {@value #PREFETCH}, the demo's resilience and resume) →
 * {@code mapConcurrent(}{@value #CONCURRENCY}{@code , }{@link EnrichedUser#lookUp}{@code )} → {@code batch(}{@value
 * #BATCH}{@code , 100 ms)} → {@code buffer(}{@value #BUFFER}{@code )} → a sink that inserts each batch into a
 * {@link UserTable}. The demo's audit listener and progress monitor are left out: they are not the job's work.
 *
 * <p>Every workload checks what it moved and returns the number of users: a lost, repeated or wrong user throws.
 */
final class DemoJob {

    static final int PREFETCH = 256;
    static final int CONCURRENCY = 64;
    static final int BATCH = 500;
    static final Duration BATCH_WAIT = Duration.ofMillis(100);
    static final int BUFFER = 4;
    /** Far beyond any healthy run of the benchmark's users. */
    static final Duration TIMEOUT = Duration.ofSeconds(120);

    private DemoJob() {}

    /** The demo's user {@code i}: what its server computes from the index. */
    static User user(long i) {
        return User.newBuilder()
                .setUserId(String.format("user-%09d", i))
                .setName("User " + i)
                .setEmail("user" + i + "@example.com")
                .setOnline(i % 4 != 0)
                .setCursor(Long.toString(i))
                .build();
    }

    /** Users {@code 0..n-1}. */
    static User[] users(int n) {
        User[] users = new User[n];
        for (int i = 0; i < n; i++) {
            users[i] = user(i);
        }
        return users;
    }

    /** The users enriched (without the lookup's wait) and cut into batches of {@value #BATCH}, as the job cuts them. */
    static List<List<EnrichedUser>> enrichedBatches(User[] users) {
        List<List<EnrichedUser>> batches = new ArrayList<>();
        for (int from = 0; from < users.length; from += BATCH) {
            int to = Math.min(users.length, from + BATCH);
            batches.add(Arrays.stream(users, from, to).map(EnrichedUser::of).toList());
        }
        return batches;
    }

    /** The sum of the users' scores: what {@link #enrich} checks its results against. */
    static long scoreSum(User[] users) {
        long sum = 0;
        for (User u : users) {
            sum += EnrichedUser.of(u).score();
        }
        return sum;
    }

    /** The demo's source: the users-online stream, {@value #PREFETCH} users requested ahead, resumable. */
    static GrpcSource<GetUsersOnlineStreamRequest, User> source(Channel channel) {
        return GrpcSource.builder(
                        channel,
                        WorkflowServiceGrpc.getGetUsersOnlineStreamMethod(),
                        GetUsersOnlineStreamRequest.getDefaultInstance())
                .prefetch(PREFETCH)
                .resilience(ResilienceOptions.builder().maxRetryAttempts(5).build())
                .resumeWith((original, last) ->
                        original.toBuilder().setResumeAfter(last.getCursor()).build())
                .build();
    }

    /** Part 1, the stream: the demo's source into a sink that counts and checks the users arrive as 0..n-1. */
    static long stream(Channel channel, int n) throws InterruptedException {
        InOrder check = new InOrder();
        long count = Pipeline.from(source(channel))
                .to(Sink.forEach(check::accept))
                .run(TIMEOUT)
                .value();
        // run() returned after the sink's thread ended: its writes to check are visible here.
        Items.expect("stream: users delivered", n, count);
        return Items.expect("stream: users in order", n, check.count);
    }

    /**
     * Part 2, the enrichment: the job's {@code mapConcurrent} stage from an in-memory source of the users into a sink
     * that counts them and sums their scores.
     */
    static long enrich(List<User> users, long expectedScoreSum) throws InterruptedException {
        long[] scores = new long[1]; // written by the sink's thread only, read after run() returned
        long count = Pipeline.from(Source.from(users))
                .mapConcurrent(CONCURRENCY, EnrichedUser::lookUp)
                .named("enrich")
                .to(Sink.forEach((EnrichedUser u) -> scores[0] += u.score()))
                .run(TIMEOUT)
                .value();
        Items.expect("enrich: users enriched", users.size(), count);
        Items.expect("enrich: sum of scores", expectedScoreSum, scores[0]);
        return count;
    }

    /** Part 3, the inserts: the batches inserted by the calling thread, one after the other, no pipeline. */
    static long insert(UserTable table, List<List<EnrichedUser>> batches) throws SQLException {
        long written = 0;
        for (List<EnrichedUser> batch : batches) {
            table.insert(batch);
            written += batch.size();
        }
        return written;
    }

    /** The whole job; the table is checked by the caller. */
    static long job(Channel channel, UserTable table, int n) throws InterruptedException {
        long[] written = new long[1]; // written by the sink's thread only, read after run() returned
        Pipeline.from(source(channel))
                .pipelineName("users-online-import")
                .mapConcurrent(CONCURRENCY, EnrichedUser::lookUp)
                .named("enrich")
                .batch(BATCH, BATCH_WAIT)
                .buffer(BUFFER)
                .to(Sink.<List<EnrichedUser>>forEach(batch -> {
                            table.insert(batch);
                            written[0] += batch.size();
                        })
                        .named("write"))
                .run(TIMEOUT);
        return Items.expect("job: users written", n, written[0]);
    }

    /** Users must arrive as 0, 1, 2, ... by their cursors. One thread at a time. */
    private static final class InOrder {
        long count;

        void accept(User user) {
            long index = Long.parseLong(user.getCursor());
            if (index != count) {
                throw new IllegalStateException(
                        "expected user " + count + ", got user " + index + " (a lost, duplicated or reordered user)");
            }
            count++;
        }
    }
}
