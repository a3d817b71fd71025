package dev.sluice.pipeline;

import dev.sluice.pipeline.internal.check.Require;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where a job keeps the position it restarts at: per checkpoint name (a job, a file, a partition), the lowest
 * contiguous completed position of its last run ({@link PositionTracker#committable()}). A restarted job loads it
 * and resumes there, replaying at most what was in flight when it stopped (at-least-once, with a bounded replay;
 * a sink that upserts makes the replay harmless).
 *
 * <pre>{@code
 * long resumeAt = store.load("orders-import").orElse(0);
 * PositionTracker tracker = new PositionTracker(resumeAt);
 * Pipeline.from(linesFrom(file, resumeAt, tracker))
 *     .listener(store.saving("orders-import", tracker), Duration.ofSeconds(1))
 *     ...
 * }</pre>
 *
 * <p>Implementations are thread-safe. {@link #saving} writes from a run's listener thread, never from a stage
 * thread. The JDBC implementation ({@code JdbcCheckpointStore}, in {@code pipeline-audit}) keeps checkpoints in a
 * table beside the audit trail.
 *
 * @since 0.1
 */
public interface CheckpointStore {

    /**
     * The position saved under {@code name}, if any.
     *
     * @param name the checkpoint's name, not blank
     * @return the saved position, or empty if none was ever saved
     * @throws IllegalArgumentException if {@code name} is blank
     * @throws RuntimeException (the implementation's own) if the store cannot be read
     */
    OptionalLong load(String name);

    /**
     * Saves {@code position} under {@code name}, replacing what was saved before. Blocks until it is durable, as
     * far as the store makes it so.
     *
     * @param name the checkpoint's name, not blank
     * @param position the position to resume at
     * @throws IllegalArgumentException if {@code name} is blank
     * @throws RuntimeException (the implementation's own) if the store cannot be written
     */
    void save(String name, long position);

    /**
     * Removes the checkpoint saved under {@code name}, if any: the job it belonged to has completed, and its next run
     * starts afresh.
     *
     * @param name the checkpoint's name, not blank
     * @throws IllegalArgumentException if {@code name} is blank
     * @throws RuntimeException (the implementation's own) if the store cannot be written
     */
    void delete(String name);

    /**
     * A listener that saves {@code tracker.committable()} under {@code name} at each progress report of the run
     * (the interval given with {@link Pipeline#listener(PipelineListener, java.time.Duration)}) when it has moved,
     * and once more when the run ends, after every item has been acknowledged, so that the final checkpoint is
     * exact. A failed save is logged by the run and retried at the next report; it never breaks the run.
     *
     * @param name the checkpoint's name, not blank
     * @param tracker the tracker of the source whose position to save
     * @return the listener, for one run at a time
     * @throws IllegalArgumentException if {@code name} is blank
     * @throws NullPointerException if {@code tracker} is null
     */
    default PipelineListener saving(String name, PositionTracker tracker) {
        Require.notBlank(name, "name");
        Require.nonNull(tracker, "tracker");
        CheckpointStore store = this;
        return new PipelineListener() {
            private long saved = Long.MIN_VALUE; // listener callbacks of a run come one at a time

            @Override
            public void onProgress(PipelineSnapshot progress) {
                saveIfMoved();
            }

            @Override
            public void onFinish(PipelineSummary summary) {
                saveIfMoved();
            }

            private void saveIfMoved() {
                long position = tracker.committable();
                if (position != saved) {
                    store.save(name, position);
                    saved = position;
                }
            }
        };
    }

    /**
     * A store in this process's memory, for tests and for jobs that need no restart across processes.
     *
     * @return a new, empty store
     */
    static CheckpointStore inMemory() {
        Map<String, Long> positions = new ConcurrentHashMap<>();
        return new CheckpointStore() {
            @Override
            public OptionalLong load(String name) {
                Long p = positions.get(Require.notBlank(name, "name"));
                return p == null ? OptionalLong.empty() : OptionalLong.of(p);
            }

            @Override
            public void save(String name, long position) {
                positions.put(Require.notBlank(name, "name"), position);
            }

            @Override
            public void delete(String name) {
                positions.remove(Require.notBlank(name, "name"));
            }
        };
    }
}
