package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The examples of docs/acks.md, run. */
@Timeout(60)
class AcknowledgementGuideTest {

    record Transfer(String account, long seq) {}

    /** A ledger that applies transfers; checks they come in order per account. */
    static final class Ledger {
        private final Map<String, Long> last = new ConcurrentHashMap<>();

        Transfer apply(Transfer t) {
            Long before = last.put(t.account(), t.seq());
            if (before != null && before >= t.seq()) {
                throw new IllegalStateException("out of order: " + t);
            }
            return t;
        }
    }

    /** A table the import upserts into: writing a line again replaces it. */
    static final class LineTable {
        final Map<String, Integer> rows = new ConcurrentHashMap<>();

        void upsert(List<String> batch) {
            for (String line : batch) {
                rows.merge(line, 1, Integer::sum);
            }
        }
    }

    @Test
    void aTrackedSourceLearnsWhereItCanResume() throws Exception {
        List<String> input = List.of("a ", "", " b", "c");
        long resumeAt = 0;
        PositionTracker tracker = new PositionTracker(resumeAt);
        Source<String> lines = emitter -> {
            for (long n = resumeAt; n < input.size(); n++) {
                emitter.emit(input.get((int) n), tracker.track(n));
            }
        };
        long imported = Pipeline.from(lines)
                .map(String::strip)
                .filter(line -> !line.isEmpty())
                .to(Sink.count())
                .run()
                .value();
        long resumeNextTimeAt = tracker.committable();

        assertThat(imported).isEqualTo(3);
        assertThat(resumeNextTimeAt).isEqualTo(4);
    }

    @Test
    void aJobCheckpointsAndResumes() throws Exception {
        CheckpointStore store = CheckpointStore.inMemory();
        LineTable table = new LineTable();
        List<String> input = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            input.add("line " + i);
        }
        store.save("orders-import", 400); // as a previous run left it
        long resumeAt = store.load("orders-import").orElse(0);
        PositionTracker tracker = new PositionTracker(resumeAt);
        Source<String> lines = emitter -> {
            for (long n = resumeAt; n < input.size(); n++) {
                emitter.emit(input.get((int) n), tracker.track(n));
            }
        };
        Pipeline.from(lines)
                .listener(store.saving("orders-import", tracker), Duration.ofSeconds(1))
                .map(String::strip)
                .batch(100, Duration.ofMillis(50))
                .to(Sink.forEach(table::upsert))
                .run();

        assertThat(table.rows).hasSize(600).containsKeys("line 400", "line 999");
        assertThat(store.load("orders-import")).hasValue(1000);
    }

    @Test
    void transfersKeepTheirOrderPerAccount() throws Exception {
        Ledger ledger = new Ledger();
        List<Transfer> transfers = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            transfers.add(new Transfer("account-" + (i % 50), i));
        }
        List<Transfer> applied = Pipeline.from(Source.from(transfers))
                .mapConcurrentByKey(16, Transfer::account, ledger::apply)
                .to(Sink.toList())
                .run()
                .value();

        assertThat(applied).hasSize(2000);
    }
}
