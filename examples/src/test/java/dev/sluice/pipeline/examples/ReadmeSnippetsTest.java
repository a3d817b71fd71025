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
 * Every Java snippet in the README appears, token for token (whitespace and line breaks aside, which the formatter
 * owns), in the project's sources, where a test runs it: a README example cannot drift from code that compiles.
 */
class ReadmeSnippetsTest {

    private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    @Test
    void everyJavaSnippetOfTheReadmeIsCodeThatATestRuns() throws IOException {
        Path root = projectRoot();
        String readme = Files.readString(root.resolve("README.md"));
        List<String> snippets = new ArrayList<>();
        Matcher m = JAVA_BLOCK.matcher(readme);
        while (m.find()) {
            snippets.add(normalize(m.group(1)));
        }
        String sources;
        try (Stream<Path> files = Files.walk(root)) {
            sources = files.filter(
                            p -> p.toString().endsWith(".java") && !p.toString().contains("/target/"))
                    .map(ReadmeSnippetsTest::read)
                    .map(ReadmeSnippetsTest::normalize)
                    .collect(Collectors.joining());
        }
        assertThat(snippets).as("Java snippets in the README").hasSizeGreaterThan(10);
        List<String> missing =
                snippets.stream().filter(s -> !sources.contains(s)).toList();
        assertThat(missing).as("README snippets found in no source file").isEmpty();
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
