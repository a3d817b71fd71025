package dev.sluice.pipeline.audit;

/**
 * What an {@link AuditWriter} did with the events given to it, at one moment ({@link AuditWriter#report()}) or at its
 * close ({@link AuditWriter#close(java.time.Duration)}). The counts are read one after another while the writer
 * works, so each is exact but they are not taken at one instant; after {@code close} they are final.
 *
 * <p>Every event given to the writer is accounted for: {@code submitted = written + spilled + dropped + pending}. What
 * was spilled leaves the spill file later, by replay: into the store ({@code replayed}), or, if the store refuses it
 * for good, into the dead-letter file ({@code deadLettered}). Once a writer has replayed its whole spill file,
 * {@code replayed + deadLettered} is what it spilled, plus what an earlier writer on the same file had left.
 *
 * @since 0.1
 * @param submitted events given to {@code submit} (and its variants)
 * @param written events the sink took directly
 * @param spilled events put in the spill file because the sink would not take them, or refused them (a refused event
 *     is set aside by the replay); they reach the sink, or the dead-letter file, later
 * @param replayed events taken from the spill file into the sink (including events spilled by an earlier writer on the
 *     same file)
 * @param deadLettered events taken from the spill file that the store refuses for good (a value it cannot hold, a
 *     constraint or trigger that says no), set aside in the dead-letter file with the reason, each logged at WARN
 * @param dropped events lost: refused because the queue was full (with a dropping policy) or the writer closed, or
 *     not storable anywhere (the sink and the spill file both failed, or there is no spill file); logged as the
 *     writer's class comment says
 * @param pending events still in the queue or being written; 0 after a close that finished in time
 */
public record AuditReport(
        long submitted, long written, long spilled, long replayed, long deadLettered, long dropped, long pending) {}
