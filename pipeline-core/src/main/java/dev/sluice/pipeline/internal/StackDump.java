package dev.sluice.pipeline.internal;

/** The top of a thread's stack as log text, for the warnings about threads that ignore interruption. */
public final class StackDump {

    /** How many frames a dump shows: enough to see what the thread waits in and who called it. */
    static final int FRAMES = 24;

    private StackDump() {}

    /** The first {@value #FRAMES} frames of {@code stack}, each on its own line as {@code "\n\tat frame"}. */
    public static String of(StackTraceElement[] stack) {
        StringBuilder at = new StringBuilder();
        for (int i = 0; i < Math.min(stack.length, FRAMES); i++) {
            at.append("\n\tat ").append(stack[i]);
        }
        return at.toString();
    }
}
