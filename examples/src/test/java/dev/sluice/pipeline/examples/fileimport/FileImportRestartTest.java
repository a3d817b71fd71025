package dev.sluice.pipeline.examples.fileimport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.pipeline.audit.JdbcCheckpointStore;
import dev.sluice.pipeline.examples.Jvm;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The import killed with {@code kill -9} (SIGKILL: no shutdown hook, no finally) in the middle, in a JVM of its
 * own, then run again: every line is imported exactly once in total, and what the restart wrote again is at most
 * the one batch the killed run had in flight past its checkpoint.
 */
@Timeout(300)
class FileImportRestartTest {

    static final int LINES = 1_000_000;
    static final int BATCH = 1_000;

    @Test
    void anImportKilledMidwayResumesAtItsCheckpointAndImportsEveryLineOnce(@TempDir Path dir) throws Exception {
        // given: a generated file, and an import of it running in another JVM
        Path file = dir.resolve("orders.csv");
        FileImportJob.generate(file, LINES);
        Path database = dir.resolve(FileImportJob.DATABASE_FILE);
        String name = FileImportJob.checkpointName(file);
        Process first = Jvm.start(FileImportJob.class, dir, file.toString(), "--data-dir", dir.toString());
        long checkpointWhenKilled;
        try {
            // when: it is killed once it has written a good part, far from the end
            await().atMost(Duration.ofMinutes(2))
                    .pollInterval(Duration.ofMillis(20))
                    .ignoreExceptions()
                    .until(() -> JdbcCheckpointStore.sqlite(database).load(name).orElse(0) > 50_000);
        } finally {
            first.destroyForcibly(); // SIGKILL
            assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        checkpointWhenKilled = JdbcCheckpointStore.sqlite(database).load(name).orElseThrow();
        assertThat(checkpointWhenKilled).as("killed mid-way").isLessThan(LINES);
        // then it is run again, to the end
        Jvm.Exit second =
                Jvm.run(Duration.ofMinutes(4), FileImportJob.class, dir, file.toString(), "--data-dir", dir.toString());
        assertThat(second.code()).as(second.out() + second.err()).isZero();
        assertThat(second.out()).contains("resumed an interrupted import");
        // then: every well-formed line once; rewritten at most one batch; the checkpoint removed
        long wellFormed = LINES - LINES / FileImportJob.MALFORMED_EVERY;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + database);
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery(
                        "SELECT COUNT(*), COUNT(DISTINCT id), SUM(writes) - COUNT(*) FROM " + OrderTable.TABLE)) {
            r.next();
            assertThat(r.getLong(1)).as("rows").isEqualTo(wellFormed);
            assertThat(r.getLong(2)).as("distinct ids").isEqualTo(wellFormed);
            assertThat(r.getLong(3)).as("rows written again by the restart").isBetween(0L, (long) BATCH);
        }
        assertThat(JdbcCheckpointStore.sqlite(database).load(name)).isEmpty();
    }
}
