package dev.sluice.pipeline.examples.kafka;

import java.time.Duration;

/**
 * The blocking call that enriches each event: a stand-in for a remote profile service, which answers after
 * {@link #LATENCY}. Its answers depend on the user only, so every instance of the job enriches an event alike.
 * Thread-safe.
 */
final class ProfileService {

    /** How long a call takes: about what a call to a service in the same data centre does. */
    static final Duration LATENCY = Duration.ofMillis(2);

    private static final String[] COUNTRIES = {"DE", "FR", "NL", "PL", "SE", "ES", "IT", "PT"};
    private static final String[] SEGMENTS = {"new", "regular", "loyal"};

    /** The event with its user's country and segment; blocks for {@link #LATENCY}. */
    EnrichedEvent enrich(UserEvent event) throws InterruptedException {
        Thread.sleep(LATENCY);
        return new EnrichedEvent(
                event,
                countryOf(event.userId()),
                SEGMENTS[Math.floorMod(event.userId().hashCode(), 3)]);
    }

    /** The country the service gives a user. */
    static String countryOf(String userId) {
        return COUNTRIES[Math.floorMod(userId.hashCode(), COUNTRIES.length)];
    }
}
