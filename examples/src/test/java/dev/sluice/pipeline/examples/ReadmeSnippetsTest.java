package dev.sluice.pipeline.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every Java snippet in the README and in the pages under {@code docs/} appears, token for token (whitespace and line
 * breaks aside, which the formatter owns), in the project's sources, where a test runs it: an example in the
 * documentation cannot drift from code that compiles.
 */
class ReadmeSnippetsTest {

    private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    @Test
    void everyJavaSnippetOfTheReadmeAndTheDocsIsCodeThatATestRuns() throws IOException {
        Path root = projectRoot();
        List<Path> pages = new ArrayList<>();
        pages.add(root.resolve("README.md"));
        try (Stream<Path> docs = Files.walk(root.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        List<String> snippets = new ArrayList<>();
        List<String> where = new ArrayList<>();
        for (Path page : pages) {
            Matcher m = JAVA_BLOCK.matcher(Files.readString(page));
            while (m.find()) {
                snippets.add(normalize(m.group(1)));
                where.add(root.relativize(page) + ": "
                        + m.group(1).strip().lines().findFirst().orElse(""));
            }
        }
        String sources;
        try (Stream<Path> files = Files.walk(root)) {
            sources = files.filter(
                            p -> p.toString().endsWith(".java") && !p.toString().contains("/target/"))
                    .map(ReadmeSnippetsTest::read)
                    .map(ReadmeSnippetsTest::normalize)
                    .collect(Collectors.joining());
        }
        assertThat(pages).as("pages").hasSizeGreaterThan(5);
        assertThat(snippets).as("Java snippets in the README and docs/").hasSizeGreaterThan(20);
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < snippets.size(); i++) {
            if (!sources.contains(snippets.get(i))) {
                missing.add(where.get(i));
            }
        }
        assertThat(missing)
                .as("snippets found in no source file (page: first line)")
                .isEmpty();
    }

    /** All whitespace dropped: indentation, alignment and where the formatter breaks a line do not count. */
    private static String normalize(String code) {
        return WHITESPACE.matcher(code).replaceAll("");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Path projectRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.exists(d.resolve("README.md")) && Files.exists(d.resolve("pipeline-core"))) {
                return d;
            }
        }
        throw new IllegalStateException("no project root above " + Path.of("").toAbsolutePath());
    }
}
