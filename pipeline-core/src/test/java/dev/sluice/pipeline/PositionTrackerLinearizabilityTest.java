package dev.sluice.pipeline;

import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Lincheck model checking of {@link PositionTracker}: one thread tracks positions (as a source does) while others
 * acknowledge them and read the committable position; every interleaving must be explainable by a sequential
 * order. The test class run sequentially is its own specification. (Tracking a position does not move the
 * committable position, so the harness publishing each acknowledgement after {@code track} returns is not
 * observable; {@code inFlight}, which tracking does change, is covered by the unit tests.)
 */
class PositionTrackerLinearizabilityTest {

    static final int POSITIONS = 4;

    @Param(name = "index", gen = IntGen.class, conf = "0:3")
    public static class Tracker {
        private final PositionTracker tracker = new PositionTracker(0);
        private final AtomicReferenceArray<Acknowledgement> acks = new AtomicReferenceArray<>(POSITIONS);
        private int next; // the tracking thread's own

        @Operation(nonParallelGroup = "source")
        public long track() {
            if (next == POSITIONS) {
                return -1;
            }
            int position = next++;
            acks.set(position, tracker.track(position));
            return position;
        }

        @Operation
        public String processed(@Param(name = "index") int index) {
            return ack(index, Disposition.PROCESSED);
        }

        @Operation
        public String released(@Param(name = "index") int index) {
            return ack(index, Disposition.RELEASED);
        }

        @Operation
        public long committable() {
            return tracker.committable();
        }

        private String ack(int index, Disposition d) {
            Acknowledgement ack = acks.get(index);
            if (ack == null) {
                return "untracked";
            }
            try {
                ack.done(d);
                return "ok";
            } catch (IllegalStateException twice) {
                return "twice";
            }
        }
    }

    @Test
    @Timeout(120)
    void thePositionTrackerIsLinearizable() {
        new ModelCheckingOptions()
                .iterations(5)
                .invocationsPerIteration(100)
                .threads(3)
                .actorsPerThread(3)
                .check(Tracker.class);
    }
}
