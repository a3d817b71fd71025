package dev.sluice.pipeline.audit;

/**
 * What an {@link AuditWriter} did with the events given to it, at one moment ({@link AuditWriter#report()}) or at its
 * close ({@link AuditWriter#close(java.time.Duration)}). The counts are read one after another while the writer
 * works, so each is exact but they are not taken at one instant; after {@code close} they are final.
 *
 * <p>Every event given to the writer is accounted for: {@code submitted = written + spilled + dropped + pending}.
 *
 * @param submitted events given to {@code submit} (and its variants)
 * @param written events the sink took directly
 * @param spilled events put in the spill file because the sink would not take them; they reach the sink later, by
 *     replay
 * @param replayed events taken from the spill file into the sink (including events spilled by an earlier writer on the
 *     same file)
 * @param dropped events lost: refused because the queue was full (with a dropping policy) or the writer closed, or
 *     not storable anywhere (the sink and the spill file both failed, or there is no spill file); logged as the
 *     writer's class comment says
 * @param pending events still in the queue or being written; 0 after a close that finished in time
 */
public record AuditReport(long submitted, long written, long spilled, long replayed, long dropped, long pending) {}
