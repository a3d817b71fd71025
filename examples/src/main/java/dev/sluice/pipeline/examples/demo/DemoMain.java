package dev.sluice.pipeline.examples.demo;

import dev.sluice.pipeline.examples.CommandLine;
import java.util.List;

/** The demo's entry point: {@code ./run-demo [options]} (see {@code --help}). */
public final class DemoMain {

    private DemoMain() {}

    public static void main(String[] args) throws Exception {
        System.exit(run(List.of(args)));
    }

    /** Runs the demo with the options in {@code args}; returns the process's exit code. */
    public static int run(List<String> args) throws Exception {
        return CommandLine.run(
                "run-demo",
                DemoOptions.USAGE,
                () -> Demo.run(DemoOptions.parse(args), System.out, StatusLine.isTerminal()));
    }
}
