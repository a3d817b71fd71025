package dev.sluice.pipeline.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A main class of this test class path running in a JVM of its own: for what needs a process of its own (the broker,
 * several members of one consumer group, a member killed with {@code kill -9}).
 *
 * <p>The child's standard output and error go to one file, {@link #output()}. Unless it is started
 * {@linkplain Builder#detached() detached}, a child does not outlive the JVM that started it: a shutdown hook kills
 * every child still running when this JVM exits, and the child itself halts when this JVM is gone (the shutdown hook
 * does not run after a {@code kill -9}, a surefire fork timeout being one). Methods may be called from any thread.
 */
final class ChildJvm implements AutoCloseable {

    private static final String NO_PARENT = "-";
    private static final Set<ChildJvm> ATTACHED = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime()
                .addShutdownHook(new Thread(() -> ATTACHED.forEach(ChildJvm::kill), "sluice-child-jvm-reaper"));
    }

    private final Class<?> mainClass;
    private final Process process;
    private final Path output;

    private ChildJvm(Class<?> mainClass, Process process, Path output) {
        this.mainClass = mainClass;
        this.process = process;
        this.output = output;
    }

    /** A child that will run {@code mainClass}'s {@code main}; the class must be on this JVM's class path. */
    static Builder builder(Class<?> mainClass) {
        return new Builder(mainClass);
    }

    long pid() {
        return process.toHandle().pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The file that holds the child's standard output and error. */
    Path output() {
        return output;
    }

    /** The lines the child has written so far. */
    List<String> outputLines() {
        try {
            return Files.readAllLines(output, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The last {@code count} lines the child has written, one string, for error messages. */
    String outputTail(int count) {
        List<String> lines = outputLines();
        return String.join(System.lineSeparator(), lines.subList(Math.max(0, lines.size() - count), lines.size()));
    }

    /** Waits for the child to end and returns its exit code; a child still running after {@code timeout} fails. */
    int waitFor(Duration timeout) throws InterruptedException, TimeoutException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new TimeoutException(mainClass.getSimpleName() + " (pid " + pid() + ") still running after " + timeout
                    + "; its last output:" + System.lineSeparator() + outputTail(30));
        }
        return process.exitValue();
    }

    /** Kills the child as {@code kill -9} does (no shutdown hook runs in it) and returns once it is gone. */
    void kill() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        awaitExit();
    }

    /**
     * Asks the child to stop as {@code kill} (SIGTERM) does, so its shutdown hooks run; kills it if it is still running
     * after {@code grace}. Returns once it is gone.
     */
    void stop(Duration grace) throws InterruptedException {
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroy();
        if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
            kill();
        }
        descendants.forEach(ProcessHandle::destroyForcibly);
        ATTACHED.remove(this);
    }

    /** Kills the child (see {@link #kill()}). */
    @Override
    public void close() {
        kill();
    }

    private void awaitExit() {
        boolean interrupted = false;
        while (true) {
            try {
                process.waitFor();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        ATTACHED.remove(this);
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** What the child runs first: {@code <parent pid or -> <main class> <its arguments...>}. */
    public static void main(String[] args) throws Throwable {
        if (args.length < 2) {
            throw new IllegalArgumentException(
                    "ChildJvm expects <parent pid or -> <main class> [arguments...], got " + Arrays.toString(args));
        }
        if (!args[0].equals(NO_PARENT)) {
            haltWhenGone(Long.parseLong(args[0]));
        }
        Method main = Class.forName(args[1]).getDeclaredMethod("main", String[].class);
        main.setAccessible(true);
        try {
            main.invoke(null, (Object) Arrays.copyOfRange(args, 2, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static void haltWhenGone(long parentPid) {
        ProcessHandle.of(parentPid)
                .map(ProcessHandle::onExit)
                .orElseGet(() -> CompletableFuture.completedFuture(null))
                .thenRun(() -> Runtime.getRuntime().halt(1));
    }

    /** Options of a child; {@link #start()} launches it. Not thread-safe. */
    static final class Builder {
        private final Class<?> mainClass;
        private final List<String> jvmArgs = new ArrayList<>();
        private final List<String> args = new ArrayList<>();
        private Path output;
        private boolean detached;

        private Builder(Class<?> mainClass) {
            this.mainClass = mainClass;
        }

        /** Options for the child's JVM, such as {@code -Xmx256m} or {@code -Dname=value}. */
        Builder jvmArgs(String... values) {
            jvmArgs.addAll(List.of(values));
            return this;
        }

        /** The arguments of the main class. */
        Builder args(String... values) {
            args.addAll(List.of(values));
            return this;
        }

        /** Where the child's output goes (replaced if it exists); a temporary file unless given. */
        Builder output(Path file) {
            this.output = file;
            return this;
        }

        /** A child that outlives this JVM: neither halted when this JVM is gone nor killed at its exit. */
        Builder detached() {
            this.detached = true;
            return this;
        }

        ChildJvm start() throws IOException {
            Path out = output;
            if (out == null) {
                out = Files.createTempFile("sluice-" + mainClass.getSimpleName() + "-", ".out");
                out.toFile().deleteOnExit();
            }
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            // Compression codecs (zstd, snappy, lz4) load native libraries: JDK 24+ warns unless this is given.
            command.add("--enable-native-access=ALL-UNNAMED");
            command.addAll(jvmArgs);
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add(ChildJvm.class.getName());
            command.add(
                    detached ? NO_PARENT : Long.toString(ProcessHandle.current().pid()));
            command.add(mainClass.getName());
            command.addAll(args);
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start();
            ChildJvm child = new ChildJvm(mainClass, process, out);
            if (!detached) {
                ATTACHED.add(child);
            }
            return child;
        }
    }
}
