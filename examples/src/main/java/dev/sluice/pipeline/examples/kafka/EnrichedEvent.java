package dev.sluice.pipeline.examples.kafka;

/**
 * A user event with what the directory knows of its user.
 *
 * @param event the event
 * @param country the user's country
 * @param segment the user's segment
 */
record EnrichedEvent(UserEvent event, String country, String segment) {}
