package dev.sluice.pipeline.examples;

import dev.sluice.pipeline.audit.AuditWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The examples' command lines: options written {@code --name value} or {@code --name=value}, positional arguments,
 * and how a program ends on bad input: one line on stderr that names the argument, the value and what was
 * expected, and exit code {@value #EXIT_BAD_INPUT}; never a stack trace.
 *
 * <p>Not thread-safe: one is read by the thread that parses the command line.
 */
public final class CommandLine {

    /** The exit code for bad input: an option, a value, a file or a database the program cannot use. */
    public static final int EXIT_BAD_INPUT = 2;

    /** Input the program cannot use; the message is what the user reads: one line, no stack trace. */
    public static final class BadInput extends Exception {
        private static final long serialVersionUID = 1L;

        public BadInput(String message) {
            super(message, null, false, false);
        }
    }

    /** Thrown for {@code --help} or {@code -h}: the program prints its usage and exits 0. */
    public static final class HelpRequested extends Exception {
        private static final long serialVersionUID = 1L;

        public HelpRequested() {
            super("help", null, false, false);
        }
    }

    /** A program's body: returns its exit code, or throws {@link BadInput} or {@link HelpRequested}. */
    @FunctionalInterface
    public interface Program {
        int run() throws Exception;
    }

    private final List<String> args;
    private int next;
    private String inlineValue;

    public CommandLine(List<String> args) {
        this.args = List.copyOf(args);
    }

    public boolean hasNext() {
        return next < args.size();
    }

    /**
     * The next argument. For {@code --name=value} it is {@code --name}, and {@link #value} returns {@code value};
     * {@code --help} and {@code -h} throw {@link HelpRequested} wherever they stand.
     */
    public String next() throws HelpRequested {
        String arg = args.get(next++);
        inlineValue = null;
        int eq = arg.indexOf('=');
        if (arg.startsWith("--") && eq > 0) {
            inlineValue = arg.substring(eq + 1);
            arg = arg.substring(0, eq);
        }
        if (arg.equals("--help") || arg.equals("-h")) {
            throw new HelpRequested();
        }
        return arg;
    }

    /** Whether an argument returned by {@link #next} is an option rather than a positional argument. */
    public static boolean isOption(String arg) {
        return arg.startsWith("-") && arg.length() > 1;
    }

    /** The value of option {@code name}, just returned by {@link #next}: its {@code =value}, or the next argument. */
    public String value(String name) throws BadInput {
        if (inlineValue != null) {
            String v = inlineValue;
            inlineValue = null;
            return v;
        }
        if (next >= args.size()) {
            throw new BadInput(name + " needs a value");
        }
        return args.get(next++);
    }

    /** The value of option {@code name} as a whole number of at least {@code min}. */
    public long number(String name, long min) throws BadInput {
        return number(name, value(name), min);
    }

    /** {@code text} as a whole number of at least {@code min} ({@code _} and {@code ,} allowed between digits). */
    public static long number(String name, String text, long min) throws BadInput {
        long value;
        try {
            value = Long.parseLong(text.replace("_", "").replace(",", ""));
        } catch (NumberFormatException e) {
            throw new BadInput(name + " needs a whole number, got '" + text + "'");
        }
        if (value < min) {
            throw new BadInput(name + " must be at least " + min + ", got " + value);
        }
        return value;
    }

    /** The value of option {@code name} as a path. */
    public Path path(String name) throws BadInput {
        String text = value(name);
        if (text.isBlank()) {
            throw new BadInput(name + " needs a path, got '" + text + "'");
        }
        try {
            return Path.of(text);
        } catch (java.nio.file.InvalidPathException e) {
            throw new BadInput(name + " needs a path, got '" + text + "' (" + e.getReason() + ")");
        }
    }

    /** The error for an option no program knows. */
    public static BadInput unknownOption(String arg) {
        return new BadInput("unknown option '" + arg + "'");
    }

    /**
     * Creates {@code dir} (and its parents) if missing: the folder a program writes its files to.
     *
     * @throws BadInput if it cannot be created, naming the option, the folder and why
     */
    public static Path createDirectory(String option, Path dir) throws BadInput {
        Path absolute = dir.toAbsolutePath().normalize();
        try {
            return Files.createDirectories(absolute);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw new BadInput(option + " must be a folder, but " + e.getFile() + " is a file");
        } catch (java.nio.file.FileSystemException e) {
            throw new BadInput(option + ": cannot create the folder " + absolute + ": "
                    + (e.getReason() != null ? e.getReason() : e.getClass().getSimpleName()));
        } catch (IOException | SecurityException e) {
            throw new BadInput(option + ": cannot create the folder " + absolute + ": " + oneLine(e.toString()));
        }
    }

    /**
     * Runs {@code program} and returns the process's exit code: the program's own; {@value #EXIT_BAD_INPUT} with
     * one line on stderr ({@code name: message (see ./name --help)}) for {@link BadInput}; 0 with {@code usage} on
     * stdout for {@link HelpRequested}. Any other exception is a fault of the program and propagates.
     */
    public static int run(String name, String usage, Program program) throws Exception {
        try {
            return program.run();
        } catch (HelpRequested help) {
            System.out.println(usage);
            return 0;
        } catch (BadInput bad) {
            System.err.println(name + ": " + oneLine(bad.getMessage()) + " (see ./" + name + " --help)");
            System.err.flush();
            return EXIT_BAD_INPUT;
        }
    }

    /** {@code text} on one line: line breaks and the indentation after them become one space. */
    public static String oneLine(String text) {
        return text == null ? "" : text.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    /**
     * Starts an audit writer that spills to {@code spillFile}, ending with bad input if the file cannot be used: held
     * by another run of a program on the same data folder, or impossible to create.
     */
    public static AuditWriter startAudit(AuditWriter.Builder builder, Path spillFile) throws BadInput {
        try {
            return builder.spillFile(spillFile).build();
        } catch (IllegalStateException e) {
            throw new BadInput("--data-dir: the audit spill file " + spillFile + " is in use by another run on the same"
                    + " folder; wait for it to end, or give this run a folder of its own");
        } catch (UncheckedIOException e) {
            throw new BadInput("--data-dir: the audit spill file " + spillFile + " cannot be created or opened ("
                    + e.getCause().getMessage() + ")");
        }
    }
}
