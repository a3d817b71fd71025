package dev.sluice.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The build check that refuses {@code synchronized} in main code, in every module. On Java 21 a virtual thread
 * that blocks inside {@code synchronized} pins its carrier; JDK 24+ no longer does, so no test run on the JDK
 * here could catch it. Comments and string literals are ignored.
 */
class NoSynchronizedInMainCodeTest {

    private static final Pattern SYNCHRONIZED = Pattern.compile("\\bsynchronized\\b");

    @Test
    void noMainSourceFileUsesSynchronized() throws IOException {
        Path root = projectRoot();
        List<String> offenders = new ArrayList<>();
        int scanned = 0;
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : (Iterable<Path>) files.filter(NoSynchronizedInMainCodeTest::isMainJavaSource)::iterator) {
                scanned++;
                String code = withoutCommentsAndLiterals(Files.readString(file));
                Matcher m = SYNCHRONIZED.matcher(code);
                while (m.find()) {
                    int line = 1
                            + (int) code.substring(0, m.start())
                                    .chars()
                                    .filter(c -> c == '\n')
                                    .count();
                    offenders.add(root.relativize(file) + ":" + line);
                }
            }
        }
        assertThat(scanned).as("main sources found under %s", root).isGreaterThan(10);
        assertThat(offenders)
                .as("synchronized pins virtual threads on Java 21; use java.util.concurrent.locks instead")
                .isEmpty();
    }

    @Test
    void theScannerIgnoresCommentsAndStringsButNotCode() {
        String code = """
                // synchronized in a comment
                /* synchronized */ String s = "synchronized"; char c = 's';
                synchronized (this) { }
                """;
        Matcher m = SYNCHRONIZED.matcher(withoutCommentsAndLiterals(code));
        assertThat(m.find()).isTrue();
        assertThat(m.find()).isFalse();
    }

    private static boolean isMainJavaSource(Path p) {
        String s = p.toString().replace('\\', '/');
        return s.endsWith(".java") && s.contains("/src/main/java/") && !s.contains("/target/");
    }

    /** The folder of the parent pom: the first folder above this module whose pom lists modules. */
    private static Path projectRoot() throws IOException {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            Path pom = d.resolve("pom.xml");
            if (Files.exists(pom) && Files.readString(pom).contains("<module>pipeline-core</module>")) {
                return d;
            }
        }
        throw new IllegalStateException("no parent pom listing pipeline-core above " + dir);
    }

    /** Blanks out comments, string and character literals and text blocks, keeping line breaks. */
    static String withoutCommentsAndLiterals(String src) {
        StringBuilder out = new StringBuilder(src.length());
        int i = 0;
        int n = src.length();
        while (i < n) {
            char c = src.charAt(i);
            if (c == '/' && i + 1 < n && src.charAt(i + 1) == '/') {
                while (i < n && src.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && i + 1 < n && src.charAt(i + 1) == '*') {
                int end = src.indexOf("*/", i + 2);
                end = end < 0 ? n : end + 2;
                keepLineBreaks(src, i, end, out);
                i = end;
            } else if (src.startsWith("\"\"\"", i)) {
                int end = src.indexOf("\"\"\"", i + 3);
                end = end < 0 ? n : end + 3;
                keepLineBreaks(src, i, end, out);
                i = end;
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < n && src.charAt(j) != c && src.charAt(j) != '\n') {
                    j += src.charAt(j) == '\\' ? 2 : 1;
                }
                i = Math.min(n, j + 1);
                out.append(' ');
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static void keepLineBreaks(String src, int from, int to, StringBuilder out) {
        for (int k = from; k < to; k++) {
            if (src.charAt(k) == '\n') {
                out.append('\n');
            }
        }
    }
}
