package dev.sluice.pipeline.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.pipeline.examples.demo.Demo;
import dev.sluice.pipeline.examples.demo.DemoOptions;
import dev.sluice.pipeline.examples.demo.UploadOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./run-demo upload} as the script runs it (the jar's main class in a JVM of its own): the users the demo
 * imported go back to a server as a client stream, the client stays within the bound while the server is slow, and
 * every user arrives once.
 */
@Timeout(120)
class UploadTest {

    private static final Duration LIMIT = Duration.ofSeconds(60);

    private static long number(String out, String regex) {
        Matcher m = Pattern.compile(regex).matcher(out);
        assertThat(m.find()).as("'%s' in%n%s", regex, out).isTrue();
        return Long.parseLong(m.group(1).replace(",", ""));
    }

    @Test
    void uploadsEveryImportedUserOnceAndStaysWithinTheBoundWhileTheServerIsSlow(@TempDir Path dir) throws Exception {
        // given: the demo imported 6,000 users
        ByteArrayOutputStream imported = new ByteArrayOutputStream();
        assertThat(Demo.run(
                        new DemoOptions(6_000, 0, 0, null, dir),
                        new PrintStream(imported, true, StandardCharsets.UTF_8),
                        false))
                .as(imported.toString(StandardCharsets.UTF_8))
                .isZero();

        // when: they are uploaded to a server that is slow for 400 ms after the first 2,000
        Jvm.Exit exit = Jvm.run(LIMIT, Launcher.class, dir, "upload", "--data-dir", dir.toString(), "--slow", "400");

        // then: every user arrived once, and the client got ahead of the server, but never past the bound
        String out = exit.out();
        assertThat(exit.code()).as("%s%nstderr:%n%s", out, exit.err()).isZero();
        assertThat(out)
                .contains("Uploading 6,000 users from " + dir.resolve("demo.db"))
                .contains("6,000 users received of 6,000 read, 0 out of order, checksum matches: every user arrived"
                        + " once");
        long maxAhead = number(out, "the client got at most ([\\d,]+) users ahead");
        long bound = number(out, "the bound is ([\\d,]+)");
        assertThat(maxAhead).as(out).isLessThanOrEqualTo(bound).isGreaterThanOrEqualTo(bound / 2);
        assertThat(number(out, "the server took ([\\d,]+) users during its slow phase"))
                .isPositive();
        assertThat(out).containsPattern("sent [\\d,]+/6,000 .* \\| client ahead [\\d,]+ \\(max [\\d,]+, bound ");
    }

    @Test
    void withoutImportedUsersItSaysToRunTheDemoFirst(@TempDir Path dir) throws Exception {
        // given: a data folder the demo never ran in
        // when
        Jvm.Exit exit = Jvm.run(LIMIT, Launcher.class, dir, "upload", "--data-dir", dir.toString());
        // then: one line, exit code 2, and no database created
        assertThat(exit.code()).as(exit.err()).isEqualTo(CommandLine.EXIT_BAD_INPUT);
        assertThat(exit.errLines())
                .singleElement()
                .isEqualTo("run-demo upload: no imported users to upload in " + dir.resolve("demo.db")
                        + " (there is no such file): run ./run-demo first, which imports them, with the same"
                        + " --data-dir or --jdbc-url (see ./run-demo upload --help)");
        assertThat(exit.out()).isEmpty();
        assertThat(dir.resolve("demo.db")).doesNotExist();
    }

    @Test
    void badOptionsAreRefusedWithWhatIsWrong() throws Exception {
        assertThatThrownBy(() -> UploadOptions.parse(List.of("--slow", "-1")))
                .isInstanceOf(CommandLine.BadInput.class)
                .hasMessage("--slow must be at least 0, got -1");
        assertThatThrownBy(() -> UploadOptions.parse(List.of("--slow")))
                .isInstanceOf(CommandLine.BadInput.class)
                .hasMessage("--slow needs a value");
        assertThatThrownBy(() -> UploadOptions.parse(List.of("--users", "5")))
                .isInstanceOf(CommandLine.BadInput.class)
                .hasMessage("unknown option '--users'");
        assertThatThrownBy(() -> UploadOptions.parse(List.of("--jdbc-url", "mysql://x")))
                .isInstanceOf(CommandLine.BadInput.class)
                .hasMessageContaining("jdbc:sqlite: or jdbc:postgresql:");
        assertThat(UploadOptions.parse(List.of("--slow=0", "--data-dir", "x")))
                .isEqualTo(new UploadOptions(0, null, Path.of("x")));
    }

    @Test
    void helpPrintsTheUsage(@TempDir Path dir) throws Exception {
        Jvm.Exit exit = Jvm.run(LIMIT, Launcher.class, dir, "upload", "--help");
        assertThat(exit.code()).isZero();
        assertThat(exit.out()).startsWith("Usage: ./run-demo upload [options]");
    }
}
