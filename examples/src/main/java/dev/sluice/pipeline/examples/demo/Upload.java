package dev.sluice.pipeline.examples.demo;

import com.google.protobuf.MessageLite;
import dev.sluice.pipeline.Pipeline;
import dev.sluice.pipeline.PipelineCancelledException;
import dev.sluice.pipeline.PipelineFailedException;
import dev.sluice.pipeline.PipelineResult;
import dev.sluice.pipeline.PipelineSnapshot;
import dev.sluice.pipeline.Source;
import dev.sluice.pipeline.examples.CommandLine.BadInput;
import dev.sluice.pipeline.examples.Database;
import dev.sluice.pipeline.grpc.GrpcClientStream;
import dev.sluice.pipeline.proto.workflow.UploadUsersResponse;
import dev.sluice.pipeline.proto.workflow.User;
import dev.sluice.pipeline.proto.workflow.WorkflowServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code ./run-demo upload}: the users the demo imported are read from its database, in {@code user_id} order, and
 * streamed to a gRPC server (Netty, loopback) as one client-streaming call through {@link GrpcClientStream}, whose
 * response is the run's value. The server ({@link UserReceiver}) turns slow after a third of them; the client sends
 * only while the call is ready, so it waits, at most {@link UserReceiver#bound(int)} users ahead. A client
 * interceptor counts the messages sent and measures, at each one, how far ahead of the server's taking stage the
 * client is; the demo then checks that this never passed the bound and that every user arrived once.
 */
public final class Upload {

    private Upload() {}

    /**
     * Runs the upload; returns the process exit code: 0 only if every user arrived once and the client stayed within
     * the bound, 1 otherwise.
     *
     * @param terminal whether {@code out} is a terminal, where the progress line is redrawn in place
     * @throws BadInput if there are no imported users to upload (no database, no table, or an empty one), or the
     *     database cannot be used; nothing has been sent then
     */
    public static int run(UploadOptions options, PrintStream out, boolean terminal) throws Exception {
        String url = options.jdbcUrl() != null ? options.jdbcUrl() : "jdbc:sqlite:" + options.database();
        String shown = options.jdbcUrl() != null
                ? Database.describe(url)
                : options.database().toString();
        if (options.jdbcUrl() == null && !Files.isRegularFile(options.database())) {
            throw noUsers(shown, "there is no such file");
        }
        long total = importedUsers(url, shown);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        UserReceiver receiver = new UserReceiver(total / 3, options.slowMillis());
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress(loopback, 0))
                .flowControlWindow(UserReceiver.WINDOW)
                .addService(receiver)
                .build()
                .start();
        ManagedChannel channel = NettyChannelBuilder.forAddress(loopback.getHostAddress(), server.getPort())
                .usePlaintext()
                .build();
        try {
            out.printf(
                    Locale.ROOT,
                    "Uploading %,d users from %s to a gRPC server on 127.0.0.1:%d as one client stream; the server"
                            + " is slow for %,d ms after a third of them%n",
                    total,
                    shown,
                    server.getPort(),
                    options.slowMillis());
            return upload(url, total, receiver, channel, out, terminal ? StatusLine.console() : null);
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    private static int upload(
            String url, long total, UserReceiver receiver, Channel channel, PrintStream out, StatusLine terminal)
            throws Exception {
        SendCounter sent = new SendCounter(receiver);
        GrpcClientStream<User, UploadUsersResponse> upload = GrpcClientStream.builder(
                        ClientInterceptors.intercept(channel, sent), WorkflowServiceGrpc.getUploadUsersMethod())
                .build();
        AtomicLong read = new AtomicLong();
        AtomicLong checksum = new AtomicLong();
        Progress progress = new Progress(out, terminal, total, sent, receiver);
        PipelineResult<UploadUsersResponse> result;
        try {
            result = Pipeline.from(usersOf(url, read, checksum))
                    .pipelineName("users-upload")
                    .monitor(Duration.ofMillis(200), progress::update)
                    .to(upload.sink())
                    .run();
        } catch (PipelineFailedException | PipelineCancelledException e) {
            progress.end();
            out.println("The upload did not complete: " + e.getMessage());
            return 1;
        }
        progress.end();
        UploadUsersResponse answer = result.value();
        double seconds = result.duration().toNanos() / 1e9;
        long bound = UserReceiver.bound(sent.smallest());
        boolean withinBound = sent.maxAhead() <= bound;
        boolean everyUserOnce = answer.getReceived() == read.get()
                && answer.getReceived() == total
                && answer.getOutOfOrder() == 0
                && answer.getIdChecksum() == checksum.get();
        out.printf(
                Locale.ROOT,
                "Uploaded %,d users in %.1f s: %,.0f users/s (outcome %s)%n",
                sent.count(),
                seconds,
                sent.count() / Math.max(seconds, 1e-9),
                result.summary().outcome());
        out.printf(
                Locale.ROOT,
                "  flow     the client got at most %,d users ahead of the server; the bound is %,d (%s): %s%n",
                sent.maxAhead(),
                bound,
                UserReceiver.boundParts(sent.smallest()),
                withinBound ? "within it" : "PAST IT");
        out.printf(
                Locale.ROOT,
                "  slow     the server took %,d users during its slow phase, a millisecond each%n",
                receiver.slowUsers());
        out.printf(
                Locale.ROOT,
                "  server   %,d users received of %,d read, %,d out of order, checksum %s: %s%n",
                answer.getReceived(),
                read.get(),
                answer.getOutOfOrder(),
                answer.getIdChecksum() == checksum.get() ? "matches" : "DIFFERS",
                everyUserOnce ? "every user arrived once" : "MISMATCH");
        return withinBound && everyUserOnce ? 0 : 1;
    }

    /** The number of imported users, or {@link BadInput} telling the user to import them first. */
    private static long importedUsers(String url, String shown) throws BadInput {
        try (Connection c = Database.open(url)) {
            long count;
            try {
                count = Database.queryLong(c, "SELECT COUNT(*) FROM " + UserTable.TABLE);
            } catch (SQLException noTable) {
                throw noUsers(shown, "it has no table " + UserTable.TABLE);
            } finally {
                c.rollback();
            }
            if (count == 0) {
                throw noUsers(shown, "its table " + UserTable.TABLE + " is empty");
            }
            return count;
        } catch (SQLException e) {
            throw Database.cannotUse(url, e);
        }
    }

    private static BadInput noUsers(String shown, String why) {
        return new BadInput("no imported users to upload in " + shown + " (" + why
                + "): run ./run-demo first, which imports them, with the same --data-dir or --jdbc-url");
    }

    /** The table's users in {@code user_id} order, read as the pipeline takes them; counts and sums their IDs. */
    private static Source<User> usersOf(String url, AtomicLong read, AtomicLong checksum) {
        // PostgreSQL sorts by the database's collation unless told otherwise; the server checks the order bytewise.
        String order = url.startsWith("jdbc:postgresql:") ? "user_id COLLATE \"C\"" : "user_id";
        return emitter -> {
            try (Connection c = Database.connect(url);
                    Statement s = c.createStatement()) {
                s.setFetchSize(1_000); // PostgreSQL streams with a cursor (auto-commit is off) instead of loading all
                try (ResultSet r = s.executeQuery(
                        "SELECT user_id, name, email, online FROM " + UserTable.TABLE + " ORDER BY " + order)) {
                    while (r.next()) {
                        User user = User.newBuilder()
                                .setUserId(r.getString(1))
                                .setName(r.getString(2))
                                .setEmail(r.getString(3))
                                .setOnline(r.getInt(4) != 0)
                                .build();
                        read.incrementAndGet();
                        checksum.addAndGet(user.getUserId().hashCode());
                        emitter.emit(user);
                    }
                } finally {
                    c.rollback();
                }
            }
        };
    }

    /**
     * Counts the messages the client hands to gRPC and, at each, how far ahead of the server's taking stage the
     * client is: that distance only grows when a message is sent, so its largest value is seen at a send.
     */
    private static final class SendCounter implements ClientInterceptor {
        private final UserReceiver receiver;
        private final AtomicLong sent = new AtomicLong();
        private final AtomicLong maxAhead = new AtomicLong();
        private final AtomicInteger smallest = new AtomicInteger(Integer.MAX_VALUE);

        SendCounter(UserReceiver receiver) {
            this.receiver = receiver;
        }

        @Override
        public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                @Override
                public void sendMessage(Q message) {
                    if (message instanceof MessageLite m) {
                        smallest.accumulateAndGet(m.getSerializedSize(), Math::min);
                    }
                    super.sendMessage(message);
                    long ahead = sent.incrementAndGet() - receiver.taken();
                    maxAhead.accumulateAndGet(ahead, Math::max);
                }
            };
        }

        long count() {
            return sent.get();
        }

        long ahead() {
            return Math.max(0, sent.get() - receiver.taken());
        }

        long maxAhead() {
            return maxAhead.get();
        }

        /** The smallest message sent so far, in bytes (protobuf size). */
        int smallest() {
            int s = smallest.get();
            return s == Integer.MAX_VALUE ? 0 : s;
        }
    }

    /** The live line: on a terminal redrawn in place, otherwise printed every second. One thread (the monitor). */
    private static final class Progress {
        private final PrintStream out;
        private final StatusLine terminal;
        private final long total;
        private final SendCounter sent;
        private final UserReceiver receiver;
        private int updates;

        Progress(PrintStream out, StatusLine terminal, long total, SendCounter sent, UserReceiver receiver) {
            this.out = out;
            this.terminal = terminal;
            this.total = total;
            this.sent = sent;
            this.receiver = receiver;
        }

        void update(PipelineSnapshot snapshot) {
            String line = line();
            if (terminal != null) {
                terminal.show(line);
            } else if (updates++ % 5 == 0) {
                out.println(line);
            }
        }

        private String line() {
            long n = sent.count();
            int smallest = sent.smallest();
            return String.format(
                    Locale.ROOT,
                    "sent %,d/%,d %.1f%% | server took %,d | client ahead %,d (max %,d, bound %s) | server %s",
                    n,
                    total,
                    100.0 * n / total,
                    receiver.taken(),
                    sent.ahead(),
                    sent.maxAhead(),
                    smallest == 0 ? "--" : String.format(Locale.ROOT, "%,d", UserReceiver.bound(smallest)),
                    receiver.phase());
        }

        void end() {
            if (terminal != null) {
                terminal.show(line());
                terminal.finish();
            }
        }
    }
}
