package dev.sluice.it;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * No library module's main code imports another library module's internal packages, except core's precondition
 * helper, {@code dev.sluice.pipeline.internal.check}, which core exports to its sibling modules
 * (docs/adr/0011-qualified-export-of-preconditions.md). Checked here, in {@code it/}, because this module depends
 * on every library artifact as a user does, so the classes read are exactly the main code that ships.
 */
@Timeout(60)
class LibraryBoundaryTest {

    /** The one internal package a library module may import from another. */
    private static final String SHARED = "dev.sluice.pipeline.internal.check";

    /** The library modules, each owning the packages its prefix names (core owns its API and its internals). */
    enum LibraryModule {
        GRPC("dev.sluice.pipeline.grpc"),
        AUDIT("dev.sluice.pipeline.audit"),
        KAFKA("dev.sluice.pipeline.kafka"),
        CORE("dev.sluice.pipeline");

        final String api;

        LibraryModule(String api) {
            this.api = api;
        }

        /** The module a package belongs to; empty for a package of no library module. */
        static Optional<LibraryModule> owning(String pkg) {
            return Arrays.stream(values())
                    .filter(m -> pkg.equals(m.api) || pkg.startsWith(m.api + "."))
                    .findFirst(); // CORE last: its prefix is also the others'
        }

        DescribedPredicate<JavaClass> mainCode() {
            return DescribedPredicate.describe(
                    "belong to " + api, c -> owning(c.getPackageName()).orElse(null) == this);
        }

        /** Classes in an internal package of a library module other than this one, minus the allowed ones. */
        DescribedPredicate<JavaClass> internalsOfOthers(String... allowed) {
            return DescribedPredicate.describe("are internals of a library module other than " + api, c -> {
                String pkg = c.getPackageName();
                LibraryModule owner = owning(pkg).orElse(null);
                boolean internal = pkg.contains(".internal");
                boolean permitted = Arrays.stream(allowed).anyMatch(a -> pkg.equals(a) || pkg.startsWith(a + "."));
                return owner != null && owner != this && internal && !permitted;
            });
        }

        ArchRule importsNoInternalsOfOthers(String... allowed) {
            return noClasses()
                    .that(mainCode())
                    .should()
                    .dependOnClassesThat(internalsOfOthers(allowed))
                    .because("a library module reaches another only through its API (or core's " + SHARED + ")")
                    .allowEmptyShould(true); // pipeline-kafka may not hold classes yet
        }
    }

    private static JavaClasses library;

    @BeforeAll
    static void importTheLibrary() {
        library = new ClassFileImporter().importPackages("dev.sluice.pipeline");
    }

    @ParameterizedTest
    @EnumSource(LibraryModule.class)
    void noLibraryModuleImportsAnotherModulesInternals(LibraryModule module) {
        module.importsNoInternalsOfOthers(SHARED).check(library);
    }

    @Test
    void theClassesReadAreTheLibrarysMainCode() {
        Map<LibraryModule, Long> perModule = library.stream()
                .map(c -> LibraryModule.owning(c.getPackageName()))
                .flatMap(Optional::stream)
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
        assertThat(perModule).containsKeys(LibraryModule.CORE, LibraryModule.GRPC, LibraryModule.AUDIT);
        assertThat(library.stream().map(JavaClass::getSimpleName)).noneMatch(name -> name.endsWith("Test"));
    }

    @Test
    void theRuleCatchesAnImportOfAnotherModulesInternals() {
        // pipeline-grpc imports core's precondition helper: without its exception, the rule must refuse it
        assertThatThrownBy(() -> LibraryModule.GRPC.importsNoInternalsOfOthers().check(library))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining(SHARED);
    }
}
