package dev.sluice.pipeline.examples.fileimport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.pipeline.Outcome;
import dev.sluice.pipeline.audit.AuditEvent;
import dev.sluice.pipeline.audit.JdbcAuditSink;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The batch job: a file parsed, transformed and written in batches, bad lines set aside, the run audited. */
class FileImportJobTest {

    @Test
    @Timeout(120)
    void importsEveryGoodLineOnceAndSetsTheBadOnesAside(@TempDir Path dir) throws Exception {
        // when
        FileImportJob.Outcome o = FileImportJob.run(dir, 100_000);
        // then: one line in a thousand is malformed
        assertThat(o.result().outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(o.rejected()).hasSize(100).allSatisfy(d -> {
            assertThat(d.stage()).isEqualTo("parse");
            assertThat(d.error()).isInstanceOf(IllegalArgumentException.class);
        });
        assertThat(o.totals().rows()).isEqualTo(99_900);
        assertThat(o.totals().distinctIds()).isEqualTo(99_900);
        assertThat(o.result().itemCount()).isEqualTo(99_900);
        assertThat(o.result().summary().stage("parse").orElseThrow().failed()).isEqualTo(100);
        assertThat(JdbcAuditSink.sqlite(dir.resolve("import.db"))
                        .findByType(
                                AuditEvent.PIPELINE_RUN,
                                Instant.EPOCH,
                                Instant.now().plusSeconds(60),
                                10))
                .singleElement()
                .satisfies(e -> assertThat(e.itemCount()).isEqualTo(99_900));
    }

    @Test
    void aLineIsParsedAndNormalized() {
        Order o = Order.parse("7,aDa LOVELACE, Ada@Example.COM ,12.34").normalized();
        assertThat(o).isEqualTo(new Order(7, "Ada lovelace", "ada@example.com", 1234));
    }
}
