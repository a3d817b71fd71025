package dev.sluice.pipeline.kafka;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Properties;
import org.apache.kafka.common.Uuid;

/**
 * The broker JVM's main: formats the storage named by a {@code server.properties} with a random cluster ID, as
 * {@code kafka-storage.sh format} does, unless it is formatted already (a directory kept across starts keeps its
 * cluster); then runs the server's main class on it, as {@code kafka-server-start.sh} does. One JVM for both, so the
 * broker's classes load once. Arguments: {@code kafka.Kafka <server.properties>} (the server's main class is named so
 * that the command line shows it).
 */
final class BrokerMain {

    static final String SERVER_MAIN = "kafka.Kafka";

    private BrokerMain() {}

    public static void main(String[] args) throws Throwable {
        if (args.length != 2 || !args[0].equals(SERVER_MAIN)) {
            throw new IllegalArgumentException(
                    "BrokerMain expects " + SERVER_MAIN + " <server.properties>, got " + Arrays.toString(args));
        }
        Path serverProperties = Path.of(args[1]);
        if (!formatted(serverProperties)) {
            format(serverProperties);
        }
        try {
            Class.forName(SERVER_MAIN).getMethod("main", String[].class).invoke(null, (Object)
                    new String[] {serverProperties.toString()});
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static boolean formatted(Path serverProperties) throws IOException {
        Properties settings = new Properties();
        try (Reader in = Files.newBufferedReader(serverProperties, StandardCharsets.UTF_8)) {
            settings.load(in);
        }
        return Files.exists(Path.of(settings.getProperty("log.dirs")).resolve("meta.properties"));
    }

    private static void format(Path serverProperties) {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        String[] command = {
            "format", "--cluster-id", Uuid.randomUuid().toString(), "--config", serverProperties.toString()
        };
        int status = kafka.tools.StorageTool.execute(command, out);
        if (status != 0) {
            throw new IllegalStateException("formatting the storage of " + serverProperties + " ended with " + status);
        }
    }
}
