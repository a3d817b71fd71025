package dev.sluice.pipeline;

/**
 * The counters of one stage, in a {@link PipelineSnapshot} (live) or a {@link PipelineSummary} (final).
 *
 * <p>Counters count items. A list made by {@code batch} counts as the items it holds, on both sides of the link
 * it travels through: the batch stage's {@code itemsOut} and the next stage's {@code itemsIn} are items, not
 * lists, so a sink after {@code batch} reports how many items it wrote.
 *
 * @param name the stage's name
 * @param itemsIn items the stage took from its input (for a source: 0)
 * @param itemsOut items the stage passed to its output link (for a sink: 0), including any that the link's
 *     overflow policy then dropped (those are in {@code dropped})
 * @param skipped items skipped by {@link ErrorPolicy#skip()}
 * @param dropped items discarded by the overflow policy of the stage's output link
 * @param failed items handed to a dead-letter handler, plus the item the run failed on, if any
 * @param itemsPerSecond items processed per second of the run so far: {@code itemsIn}, or for a source
 *     {@code itemsOut}, over the elapsed time
 * @param buffered items waiting in the stage's input link (a moment's reading; 0 for a source)
 * @param capacity the capacity of the stage's input link (0 for a source)
 * @since 0.1
 */
public record StageStats(
        String name,
        long itemsIn,
        long itemsOut,
        long skipped,
        long dropped,
        long failed,
        double itemsPerSecond,
        int buffered,
        int capacity) {}
