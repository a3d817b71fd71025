package dev.sluice.pipeline.internal;

import dev.sluice.pipeline.Overflow;

/** The channel between a stage and the next: its capacity and overflow policy. */
public record LinkSpec(int capacity, Overflow overflow) {}
