package io.hupd.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The rules of the house that the folders promise. */
class ArchitectureTest {
    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.hupd");

    @Test
    void machineAndStepsNeverTouchAdapters() {
        noClasses().that().resideInAnyPackage("io.hupd.machine..", "io.hupd.steps..", "io.hupd.runner..")
                .should().dependOnClassesThat().resideInAnyPackage("io.hupd.adapters..", "io.hupd.cli..")
                .check(MAIN);
    }

    @Test
    void springStatemachineStaysInTheMachinePackage() {
        noClasses().that().resideOutsideOfPackages("io.hupd.machine..", "io.hupd.persistence..")
                .should().dependOnClassesThat().resideInAnyPackage("org.springframework.statemachine..")
                .check(MAIN);
    }

    @Test
    void stepsTakeTimeFromTheClockPort() {
        noClasses().that().resideInAnyPackage("io.hupd.steps..", "io.hupd.machine..")
                .should().callMethod(Thread.class, "sleep", long.class)
                .orShould().callMethod(java.time.Instant.class, "now")
                .orShould().callMethod(System.class, "currentTimeMillis")
                .check(MAIN);
    }
}
