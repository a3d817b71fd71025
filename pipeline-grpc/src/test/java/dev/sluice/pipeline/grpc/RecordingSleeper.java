package dev.sluice.pipeline.grpc;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A sleeper that records each wait and returns at once, so that the schedule is exact and tests are quick. */
final class RecordingSleeper implements Sleeper {
    final List<Duration> waits = new CopyOnWriteArrayList<>();

    @Override
    public void sleep(Duration delay) {
        waits.add(delay);
    }

    List<Long> millis() {
        return waits.stream().map(Duration::toMillis).toList();
    }
}
