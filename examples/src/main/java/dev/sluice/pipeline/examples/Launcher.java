package dev.sluice.pipeline.examples;

import dev.sluice.pipeline.examples.consumer.ConsumerJob;
import dev.sluice.pipeline.examples.demo.DemoMain;
import dev.sluice.pipeline.examples.demo.UploadMain;
import dev.sluice.pipeline.examples.fileimport.FileImportJob;
import dev.sluice.pipeline.examples.kafka.KafkaDemo;
import java.util.List;

/**
 * The entry point of the examples' jar, which {@code ./run-demo} runs on a JDK 21+ it finds itself:
 *
 * <pre>
 * ./run-demo [demo] [options]         the demo (the default when the first argument is an option, or there is none)
 * ./run-demo consumer [options]       the consumer job, until Ctrl-C
 * ./run-demo import [FILE | LINES]    the file import
 * ./run-demo upload [options]         the imported users streamed back to a server as a client stream
 * ./run-demo kafka [options]          a Kafka consumer job scaled out over JVMs, one killed, the table checked
 * </pre>
 *
 * Each takes {@code --help}. Bad input ends with one line on stderr and exit code {@value
 * CommandLine#EXIT_BAD_INPUT}.
 */
public final class Launcher {

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        System.exit(run(List.of(args)));
    }

    /** Runs the command {@code args} name; returns the process's exit code. */
    static int run(List<String> args) throws Exception {
        if (args.isEmpty() || CommandLine.isOption(args.getFirst())) {
            return DemoMain.run(args);
        }
        List<String> rest = args.subList(1, args.size());
        return switch (args.getFirst()) {
            case "demo" -> DemoMain.run(rest);
            case "consumer" -> ConsumerJob.run(rest);
            case "import" -> FileImportJob.run(rest);
            case "upload" -> UploadMain.run(rest);
            case "kafka" -> KafkaDemo.run(rest);
            default ->
                CommandLine.run("run-demo", "", () -> {
                    throw new CommandLine.BadInput("unknown command '" + args.getFirst()
                            + "'; the commands are demo, consumer, import, upload and kafka");
                });
        };
    }
}
