package dev.sluice.pipeline.grpc;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An item server ({@link CountingItemService}'s stream and {@link UpsertStore}'s idempotent calls on Netty over
 * loopback) in a JVM of its own, so that a test can kill
 * it as an operator or a crash would: {@link #kill()} ends the process at once, the operating system closes its
 * sockets without an HTTP/2 goodbye, and its clients see UNAVAILABLE, then refused connections until a server
 * listens on the port again.
 *
 * <p>{@link #launch()} starts the JVM; {@link #awaitReady()} returns once it is warm (its server classes loaded, a
 * throwaway server started and stopped) but not listening; {@link #listen(int)} then binds in milliseconds, so a
 * test can start a replacement beforehand and bring it up on the old port at a precise moment. The child reads
 * commands from its standard input and ends when that closes, so it cannot outlive the test's JVM.
 *
 * <p>The IDs the child's {@link UpsertStore} stored are collected in {@link #stored()} as it reports them, and stay
 * there after a kill; {@link #hold(long)} arms the store's hold and {@link #holding()} tells whether a call is held.
 */
final class ServerProcess implements AutoCloseable {

    private static final String ANSWER = "server-process: ";
    private static final String STORED = ANSWER + "stored ";
    private static final String HOLDING = ANSWER + "holding ";
    private static final long ANSWER_TIMEOUT_SECONDS = 60;

    private final Process process;
    private final Writer commands;
    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
    private final Set<Long> stored = ConcurrentHashMap.newKeySet();
    private final Thread reader;
    private volatile boolean holding;
    private boolean ready;

    private ServerProcess(Process process) {
        this.process = process;
        this.commands = process.outputWriter(StandardCharsets.UTF_8);
        this.reader = Thread.ofPlatform()
                .daemon()
                .name("server-process-" + process.pid())
                .start(this::readAnswers);
    }

    /** Starts a server process; it gets ready to listen meanwhile (see {@link #awaitReady()}). */
    static ServerProcess launch() throws IOException {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process process = new ProcessBuilder(List.of(
                        java.toString(),
                        "-Xmx256m",
                        "-XX:+UseSerialGC",
                        "-XX:TieredStopAtLevel=1",
                        "-cp",
                        classPath,
                        ServerProcess.class.getName()))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        return new ServerProcess(process);
    }

    /** Waits until the process is warm and ready to listen; returns at once after the first time. */
    ServerProcess awaitReady() throws InterruptedException {
        if (!ready) {
            expect("ready");
            ready = true;
        }
        return this;
    }

    /**
     * Binds the server to {@code port} on 127.0.0.1 (0 for any free port) and returns the port once it listens.
     */
    int listen(int port) throws IOException, InterruptedException {
        awaitReady();
        commands.write("listen " + port + "\n");
        commands.flush();
        return Integer.parseInt(expect("listening "));
    }

    /**
     * Kills the process at once (SIGKILL) and waits until it is gone, so its port is free, and until what it wrote
     * before has been read, so {@link #stored()} is final.
     */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("server process " + process.pid() + " still alive 30 s after a kill");
        }
        reader.join(Duration.ofSeconds(10));
    }

    /** Makes the store hold the first call that reaches {@code id} (see {@link UpsertStore}). */
    void hold(long id) throws IOException, InterruptedException {
        command("hold " + id, "armed");
    }

    /** Ends the hold: none from now on, and a held call goes on. */
    void disarm() throws IOException, InterruptedException {
        command("disarm", "disarmed");
    }

    /** Whether a call reached the armed ID and is held. */
    boolean holding() {
        return holding;
    }

    /**
     * The IDs this server stored so far: every one it reported before this call, since a live server answers a
     * {@code sync} after the lines it wrote before (all of them, once it has been killed).
     */
    Set<Long> stored() throws IOException, InterruptedException {
        if (process.isAlive()) {
            command("sync", "synced");
        }
        return Set.copyOf(stored);
    }

    private void command(String command, String answer) throws IOException, InterruptedException {
        awaitReady();
        commands.write(command + "\n");
        commands.flush();
        expect(answer);
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }

    private String expect(String prefix) throws InterruptedException {
        String answer = answers.poll(ANSWER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (answer == null) {
            throw new IllegalStateException("server process " + process.pid() + " did not answer '" + prefix
                    + "' within " + ANSWER_TIMEOUT_SECONDS + " s (alive: " + process.isAlive() + ")");
        }
        if (!answer.startsWith(prefix)) {
            throw new IllegalStateException(
                    "server process " + process.pid() + " answered '" + answer + "', expected '" + prefix + "...'");
        }
        return answer.substring(prefix.length());
    }

    /** Keeps the child's standard output drained (its log lines too); passes its answers on. */
    private void readAnswers() {
        try (BufferedReader out = process.inputReader(StandardCharsets.UTF_8)) {
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith(STORED)) {
                    stored.add(Long.parseLong(line.substring(STORED.length())));
                } else if (line.startsWith(HOLDING)) {
                    holding = true;
                } else if (line.startsWith(ANSWER)) {
                    answers.add(line.substring(ANSWER.length()));
                }
            }
        } catch (IOException e) {
            answers.add("output lost: " + e);
        }
    }

    /**
     * The child: {@code listen PORT} binds and answers {@code listening PORT}; {@code hold ID} and {@code disarm} set
     * the store's hold; {@code sync} answers after every line written before it; end of input ends the process.
     */
    public static void main(String[] args) throws Exception {
        PrintStream out = System.out;
        UpsertStore store = new UpsertStore(out, ANSWER);
        // Warm up: load and run the server's classes once, so that a later bind takes milliseconds.
        Server warm = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new CountingItemService())
                .build()
                .start();
        warm.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        out.println(ANSWER + "ready");
        out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            if (line.startsWith("listen ")) {
                int port = Integer.parseInt(line.substring("listen ".length()).trim());
                NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port));
                store.services().forEach(builder::addService);
                Server server = builder.build();
                try {
                    server.start();
                    out.println(ANSWER + "listening " + server.getPort());
                } catch (IOException e) {
                    out.println(ANSWER + "cannot listen on port " + port + ": " + e);
                }
                out.flush();
            } else if (line.startsWith("hold ")) {
                store.arm(Long.parseLong(line.substring("hold ".length()).trim()));
                out.println(ANSWER + "armed");
                out.flush();
            } else if (line.equals("disarm")) {
                store.disarm();
                out.println(ANSWER + "disarmed");
                out.flush();
            } else if (line.equals("sync")) {
                out.println(ANSWER + "synced");
                out.flush();
            }
        }
        System.exit(0);
    }
}
