package dev.sluice.pipeline.examples.demo;

import java.util.List;

/** The demo's entry point: {@code java -jar sluice-demo.jar [options]} (see {@code --help}). */
public final class DemoMain {

    private DemoMain() {}

    public static void main(String[] args) throws Exception {
        DemoOptions options;
        try {
            options = DemoOptions.parse(List.of(args));
        } catch (DemoOptions.HelpRequested help) {
            System.out.println(DemoOptions.USAGE);
            return;
        } catch (DemoOptions.BadOption bad) {
            System.err.println("run-demo: " + bad.getMessage());
            System.err.println(DemoOptions.USAGE);
            System.exit(2);
            return;
        }
        int exit = Demo.run(options, System.out, System.console() != null);
        System.exit(exit);
    }
}
