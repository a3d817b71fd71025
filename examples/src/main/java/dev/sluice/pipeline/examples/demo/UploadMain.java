package dev.sluice.pipeline.examples.demo;

import dev.sluice.pipeline.examples.CommandLine;
import java.util.List;

/** The upload's entry point: {@code ./run-demo upload [options]} (see {@code --help}). */
public final class UploadMain {

    private UploadMain() {}

    public static void main(String[] args) throws Exception {
        System.exit(run(List.of(args)));
    }

    /** Runs the upload with the options in {@code args}; returns the process's exit code. */
    public static int run(List<String> args) throws Exception {
        return CommandLine.run(
                "run-demo upload",
                UploadOptions.USAGE,
                () -> Upload.run(UploadOptions.parse(args), System.out, StatusLine.isTerminal()));
    }
}
