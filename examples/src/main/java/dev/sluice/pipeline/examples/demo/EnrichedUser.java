package dev.sluice.pipeline.examples.demo;

import dev.sluice.pipeline.proto.workflow.User;
import java.time.Duration;

/** A user after the demo's enrichment step: a segment and a score from a (simulated) remote lookup. */
record EnrichedUser(User user, String segment, int score) {

    /** How long the simulated lookup takes: a fast remote call. */
    static final Duration LOOKUP = Duration.ofNanos(200_000);

    /** The simulated blocking call: sleeps like a remote lookup would wait, then answers. */
    static EnrichedUser lookUp(User user) throws InterruptedException {
        Thread.sleep(LOOKUP);
        int hash = user.getUserId().hashCode();
        String segment = switch (Math.floorMod(hash, 3)) {
            case 0 -> "bronze";
            case 1 -> "silver";
            default -> "gold";
        };
        return new EnrichedUser(user, segment, Math.floorMod(hash, 1_000));
    }
}
