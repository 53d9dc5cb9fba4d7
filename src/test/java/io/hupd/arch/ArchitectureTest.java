package io.hupd.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaCall;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import io.hupd.machine.ContextChange;
import io.hupd.machine.UpdateContext;
import io.hupd.machine.UpdateMachine;
import java.util.Set;
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

    @Test
    void noCyclesBetweenPackages() {
        slices().matching("io.hupd.(**)").should().beFreeOfCycles().check(MAIN);
    }

    @Test
    void portsSpeakOnlyOfTheDevice() {
        classes().that().resideInAPackage("io.hupd.ports")
                .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "io.hupd.ports", "io.hupd.domain")
                .check(MAIN);
    }

    @Test
    void theDomainDependsOnNothingOfHupd() {
        classes().that().resideInAPackage("io.hupd.domain")
                .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "io.hupd.domain")
                .check(MAIN);
    }

    @Test
    void theOciModelIsALeafOfTheImagePackages() {
        noClasses().that().resideInAPackage("io.hupd.image.oci")
                .should().dependOnClassesThat().resideInAnyPackage("io.hupd.image.cache..", "io.hupd.image.fetch..",
                        "io.hupd.image.registry..", "io.hupd.image.delta..", "io.hupd.image.rootfs..",
                        "io.hupd.image.fsimage..", "io.hupd.image.authoring..", "io.hupd.image.trust..")
                .check(MAIN);
    }

    @Test
    void theDeviceNeverUsesTheAuthoringTools() {
        noClasses().that().resideInAnyPackage("io.hupd.machine..", "io.hupd.steps..", "io.hupd.runner..",
                        "io.hupd.image.fetch..", "io.hupd.image.cache..", "io.hupd.image.rootfs..")
                .should().dependOnClassesThat().resideInAPackage("io.hupd.image.authoring..")
                .check(MAIN);
    }

    /**
     * Issue 13: the context is immutable, and only the machine and the runner make a new one from a change (the
     * runner persists it with the transition). Steps say what they change ({@code StepOutcome.with}, or the
     * runner's {@code StepLog.record} for progress they must not lose), written on the builder a change is given;
     * they never apply a change, build a context or replace the machine's.
     */
    @Test
    void onlyTheMachineAndTheRunnerApplyAChangeToTheContext() {
        DescribedPredicate<JavaCall<?>> makesAContext = DescribedPredicate.describe(
                "apply a context change or build an update context", call -> {
                    String owner = call.getTargetOwner().getName();
                    String name = call.getName();
                    return owner.equals(ContextChange.class.getName()) && name.equals("applyTo")
                            || owner.equals(UpdateMachine.class.getName()) && name.equals("apply")
                            || owner.equals(UpdateContext.class.getName())
                                    && Set.of("<init>", "toBuilder", "builder", "empty").contains(name)
                            || owner.equals(UpdateContext.Builder.class.getName()) && name.equals("build");
                });
        noClasses().that().resideOutsideOfPackages("io.hupd.machine..", "io.hupd.runner..")
                .should().callCodeUnitWhere(makesAContext)
                .check(MAIN);
    }

    /** The context a step is given cannot be changed by it: every field final (its lists are unmodifiable). */
    @Test
    void theContextIsImmutableByType() {
        classes().that().haveFullyQualifiedName(UpdateContext.class.getName())
                .or().haveFullyQualifiedName(UpdateContext.Registries.class.getName())
                .should().haveOnlyFinalFields()
                .check(MAIN);
        noClasses().that().resideInAPackage("io.hupd.steps..")
                .should().dependOnClassesThat().resideInAPackage("io.hupd.persistence..")
                .because("a step persists nothing of the update itself: the runner does")
                .check(MAIN);
    }

    /** Issue 13: a class over 400 lines does more than one job; split it by job rather than raise the limit. */
    /**
     * Issue 13: a step does its own job; what two steps share lives in a class of its own in steps/ (Sizes,
     * OsVersion, SlotWriter, ...), never in one step for another to call.
     */
    @Test
    void noStepCallsAnotherStep() {
        DescribedPredicate<com.tngtech.archunit.core.domain.JavaClass> aStep = DescribedPredicate.describe(
                "a step (a class of io.hupd.steps named *Step, other than the Step interface)",
                c -> c.getPackageName().equals("io.hupd.steps") && c.getSimpleName().endsWith("Step")
                        && !c.getSimpleName().equals("Step"));
        for (var step : MAIN.that(aStep)) {
            var others = step.getDirectDependenciesFromSelf().stream()
                    .map(com.tngtech.archunit.core.domain.Dependency::getTargetClass)
                    .map(c -> c.getBaseComponentType())
                    .filter(aStep::test)
                    .filter(c -> !c.equals(step) && !c.getName().startsWith(step.getName() + "$"))
                    .map(com.tngtech.archunit.core.domain.JavaClass::getSimpleName)
                    .distinct().toList();
            org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of(), others,
                    step.getSimpleName() + " uses other steps");
        }
        org.junit.jupiter.api.Assertions.assertTrue(MAIN.that(aStep).size() > 10, "the rule found no steps");
    }

    @Test
    void noMainClassOver400Lines() throws java.io.IOException {
        java.nio.file.Path main = java.nio.file.Path.of("src/main/java/io/hupd");
        java.util.List<String> over = new java.util.ArrayList<>();
        try (var files = java.nio.file.Files.walk(main)) {
            for (java.nio.file.Path f : (Iterable<java.nio.file.Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                String name = main.relativize(f).toString().replace('\\', '/');
                long lines = java.nio.file.Files.readAllLines(f).size();
                if (lines > 400) {
                    over.add(name + " (" + lines + " lines)");
                }
            }
        }
        org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of(), over, "main classes over 400 lines");
    }
}
