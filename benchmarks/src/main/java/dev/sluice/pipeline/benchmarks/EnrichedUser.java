package dev.sluice.pipeline.benchmarks;

import dev.sluice.pipeline.proto.workflow.User;
import java.time.Duration;

/**
 * The end-to-end benchmark's enriched user, as the examples' demo makes it: a user with a segment and a score from a
 * simulated remote lookup that blocks for {@link #LOOKUP}.
 */
record EnrichedUser(User user, String segment, int score) {

    /** How long the simulated lookup blocks: the demo's fast remote call. */
    static final Duration LOOKUP = Duration.ofNanos(200_000);

    /** The simulated blocking call: sleeps as a remote lookup would wait, then answers as {@link #of} does. */
    static EnrichedUser lookUp(User user) throws InterruptedException {
        Thread.sleep(LOOKUP);
        return of(user);
    }

    /** The lookup's answer without the wait: a pure function of the user's id. */
    static EnrichedUser of(User user) {
        int hash = user.getUserId().hashCode();
        String segment = switch (Math.floorMod(hash, 3)) {
            case 0 -> "bronze";
            case 1 -> "silver";
            default -> "gold";
        };
        return new EnrichedUser(user, segment, Math.floorMod(hash, 1_000));
    }
}
