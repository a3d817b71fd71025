package dev.sluice.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The module's rules, checked on its own sources and classes. (The project-wide ban on {@code synchronized} in main
 * code is checked once for every module, in pipeline-core's tests.)
 */
@Timeout(30)
class ArchitectureTest {
    private static final Path MAIN = Path.of("src/main/java");
    private static final Pattern COMMENTS_AND_STRINGS =
            Pattern.compile("//[^\\n]*|/\\*.*?\\*/|\"(?:\\\\.|[^\"\\\\])*\"|'(?:\\\\.|[^'\\\\])'", Pattern.DOTALL);

    @Test
    void mainCodeNeverImportsGrpc() throws IOException {
        assertThat(filesWhoseCodeMatches(Pattern.compile("\\bio\\.grpc\\b|dev\\.sluice\\.pipeline\\.grpc")))
                .isEmpty();
    }

    @Test
    void thePublicApiExposesNoInternalType() {
        List<String> leaks = new ArrayList<>();
        for (Class<?> type : List.of(
                AuditEvent.class,
                AuditSink.class,
                AuditLookup.class,
                AuditStoreException.class,
                AuditWriter.class,
                AuditWriter.Builder.class,
                AuditReport.class,
                AuditListener.class,
                JdbcAuditSink.class,
                Slf4jAuditSink.class,
                InMemoryAuditSink.class)) {
            for (Method m : type.getDeclaredMethods()) {
                if (!Modifier.isPublic(m.getModifiers())) {
                    continue;
                }
                List<Class<?>> used = new ArrayList<>(List.of(m.getParameterTypes()));
                used.add(m.getReturnType());
                for (Class<?> u : used) {
                    if (u.getPackageName().endsWith(".internal")) {
                        leaks.add(type.getSimpleName() + "." + m.getName() + " uses " + u.getName());
                    }
                }
            }
        }
        assertThat(leaks).isEmpty();
    }

    private static List<Path> filesWhoseCodeMatches(Pattern pattern) throws IOException {
        List<Path> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String code = COMMENTS_AND_STRINGS.matcher(Files.readString(f)).replaceAll(" ");
                if (pattern.matcher(code).find()) {
                    found.add(f);
                }
            }
        }
        assertThat(found.size()).isLessThan(1000);
        return found;
    }
}
