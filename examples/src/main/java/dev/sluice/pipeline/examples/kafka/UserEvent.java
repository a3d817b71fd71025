package dev.sluice.pipeline.examples.kafka;

/**
 * One event of a user, as the demo's topic carries it: the record's key is the user, its value
 * {@code eventId,userId,seq,kind} ({@code seq} counts that user's events, in the order they were produced).
 *
 * @param eventId unique across the topic, from 0
 * @param userId the user, also the record's key
 * @param seq the user's events before this one
 * @param kind what the user did
 */
record UserEvent(long eventId, String userId, long seq, String kind) {

    private static final String[] KINDS = {"login", "view", "search", "add-to-cart", "purchase", "logout"};

    /** Event {@code eventId} of {@code users} users: user {@code eventId % users}, its event {@code eventId / users}. */
    static UserEvent of(long eventId, int users) {
        return new UserEvent(
                eventId, "user-" + (eventId % users), eventId / users, KINDS[(int) (eventId % 7 % KINDS.length)]);
    }

    /** The record value. */
    String value() {
        return eventId + "," + userId + "," + seq + "," + kind;
    }

    /** An event from its record value; {@link IllegalArgumentException} if it is not one. */
    static UserEvent parse(String value) {
        String[] fields = value == null ? new String[0] : value.split(",", -1);
        if (fields.length != 4) {
            throw new IllegalArgumentException("not a user event (eventId,userId,seq,kind): '" + value + "'");
        }
        return new UserEvent(Long.parseLong(fields[0]), fields[1], Long.parseLong(fields[2]), fields[3]);
    }
}
