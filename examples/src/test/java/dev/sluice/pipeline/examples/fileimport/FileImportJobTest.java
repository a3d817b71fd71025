package dev.sluice.pipeline.examples.fileimport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.pipeline.Outcome;
import dev.sluice.pipeline.audit.AuditEvent;
import dev.sluice.pipeline.audit.JdbcAuditSink;
import dev.sluice.pipeline.examples.Jvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The batch job: a file parsed, transformed and written in batches, bad lines set aside, the run audited. */
@Timeout(120)
class FileImportJobTest {

    @Test
    void importsEveryGoodLineOnceAndSetsTheBadOnesAside(@TempDir Path dir) throws Exception {
        // when
        FileImportJob.Outcome o = FileImportJob.importGenerated(dir, 100_000);
        // then: one line in a thousand is malformed
        assertThat(o.result().outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(o.rejectedLines()).isEqualTo(100);
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
    void writesEachMalformedLineWithItsNumberAndReasonBesideTheDatabase(@TempDir Path dir) throws Exception {
        // when
        FileImportJob.Outcome o = FileImportJob.importGenerated(dir, 10_000);
        // then: the file beside the database holds the 10 lines set aside, each with its line number (from 1)
        assertThat(o.rejectedFile()).isEqualTo(dir.resolve("rejected-lines.tsv"));
        assertThat(o.database()).isEqualTo(dir.resolve("import.db"));
        List<String> rows = Files.readAllLines(o.rejectedFile());
        assertThat(rows).hasSize(11).first().isEqualTo("line\treason\ttext");
        assertThat(rows.get(1))
                .isEqualTo(
                        "1000\texpected 4 fields (id,customer,email,amount), got 2\t999,broken line without an amount");
        assertThat(rows.getLast())
                .isEqualTo(
                        "10000\texpected 4 fields (id,customer,email,amount), got 2\t9999,broken line without an amount");
    }

    @Test
    void importsAGivenFileAndSaysWhereItsMalformedLinesAre(@TempDir Path dir) throws Exception {
        // given a file of the user's with three kinds of malformed line, one with a tab in its text
        Path input = Files.write(
                dir.resolve("orders.csv"),
                List.of(
                        "1,ada,ada@example.com,12.50",
                        "2,bob,bob@example.com",
                        "x3,cy,cy@example.com,1.00",
                        "4,dee,dee@example.com,1.005",
                        "5,eve\t(tab),eve@example.com,seven",
                        "6,fay,fay@example.com,3"));
        Path out = dir.resolve("out");
        // when it is imported as ./run-demo import FILE --data-dir DIR
        Jvm.Exit exit = Jvm.run(
                Duration.ofSeconds(90),
                FileImportJob.class,
                dir,
                input.getFileName().toString(),
                "--data-dir",
                out.toString());
        // then the good lines are written, and the summary says where the bad ones are
        assertThat(exit.code()).as(exit.err()).isZero();
        assertThat(exit.out())
                .contains("imported 2 orders from " + input + " in ")
                .contains("into " + out.resolve("import.db") + " (table orders)")
                .contains("4 malformed lines set aside in " + out.resolve("rejected-lines.tsv")
                        + " (line number, reason, text)");
        assertThat(Files.readAllLines(out.resolve("rejected-lines.tsv")))
                .containsExactly(
                        "line\treason\ttext",
                        "2\texpected 4 fields (id,customer,email,amount), got 3\t2,bob,bob@example.com",
                        "3\tid 'x3' is not a whole number\tx3,cy,cy@example.com,1.00",
                        "4\tamount '1.005' is not a number with at most 2 decimals\t4,dee,dee@example.com,1.005",
                        "5\tamount 'seven' is not a number with at most 2 decimals\t5,eve\t(tab),eve@example.com,seven");
    }

    @Test
    void anImportIntoAFileThatIsNotADatabaseEndsWithOneLineAndExitCodeTwo(@TempDir Path dir) throws Exception {
        // given a data folder whose import.db is not a SQLite database
        Path input = Files.write(dir.resolve("orders.csv"), List.of("1,ada,ada@example.com,12.50"));
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.writeString(out.resolve("import.db"), "junk, not a database\n".repeat(200));
        // when
        Jvm.Exit exit = Jvm.run(
                Duration.ofSeconds(90),
                FileImportJob.class,
                dir,
                input.getFileName().toString(),
                "--data-dir",
                out.toString());
        // then
        assertThat(exit.code()).as(exit.err()).isEqualTo(2);
        assertThat(exit.err().strip())
                .startsWith("run-demo import: cannot use the database " + out.resolve("import.db"))
                .doesNotContain("\n")
                .doesNotContain("Exception in thread");
    }

    @Test
    void aPathTooLongForACheckpointNameIsNamedByItsHash() {
        Path shortPath = Path.of("/data/orders.csv");
        Path longPath = Path.of("/" + "d".repeat(300), "orders.csv");
        Path otherLongPath = Path.of("/" + "e".repeat(300), "orders.csv");
        assertThat(FileImportJob.checkpointName(shortPath)).isEqualTo("orders-file-import:/data/orders.csv");
        String name = FileImportJob.checkpointName(longPath);
        assertThat(name).startsWith("orders-file-import:sha256:").hasSize("orders-file-import:sha256:".length() + 64);
        assertThat(FileImportJob.checkpointName(Path.of("/" + "d".repeat(300), "orders.csv")))
                .isEqualTo(name);
        assertThat(FileImportJob.checkpointName(otherLongPath)).isNotEqualTo(name);
    }

    @Test
    void aCleanImportLeavesNoRejectedFileFromAnEarlierOne(@TempDir Path dir) throws Exception {
        // given an earlier import that set lines aside
        FileImportJob.importGenerated(dir, 2_000);
        assertThat(dir.resolve("rejected-lines.tsv")).exists();
        // when a file with no malformed line is imported into the same folder
        Path clean = Files.write(dir.resolve("clean.csv"), List.of("1,ada,ada@example.com,1.00"));
        FileImportJob.Outcome o = FileImportJob.importFile(clean, dir);
        // then no file claims malformed lines it did not have
        assertThat(o.rejectedLines()).isZero();
        assertThat(dir.resolve("rejected-lines.tsv")).doesNotExist();
    }

    @Test
    void aLineIsParsedAndNormalized() {
        Order o = Order.parse("7,aDa LOVELACE, Ada@Example.COM ,12.34").normalized();
        assertThat(o).isEqualTo(new Order(7, "Ada lovelace", "ada@example.com", 1234));
    }
}
