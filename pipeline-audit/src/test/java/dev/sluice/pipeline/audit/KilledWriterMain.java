package dev.sluice.pipeline.audit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * The process that {@link AuditWriterKillTest} kills: a writer whose store is down submits {@code count} events (they
 * go to the spill file), prints {@code SUBMITTED}, then waits to be killed, never calling {@code close()}.
 *
 * <p>Arguments: the spill file, the number of events, the queue capacity, the batch size.
 */
public final class KilledWriterMain {
    private KilledWriterMain() {}

    public static void main(String[] args) throws Exception {
        Path spill = Path.of(args[0]);
        int count = Integer.parseInt(args[1]);
        AuditWriter writer = AuditWriter.builder(new ControllableSink().down())
                .spillFile(spill)
                .queueCapacity(Integer.parseInt(args[2]))
                .batchSize(Integer.parseInt(args[3]))
                .retry(1, Duration.ofMillis(5), Duration.ofMillis(5))
                .logEvents(false)
                .build();
        for (int i = 0; i < count; i++) {
            if (!writer.submit(Events.finished("killed", i))) {
                System.out.println("REFUSED " + i);
            }
        }
        System.out.println("SUBMITTED " + count);
        System.out.flush();
        for (; ; ) {
            LockSupport.park(); // until SIGKILL
        }
    }
}
