package dev.braid;

import static com.tngtech.archunit.base.DescribedPredicate.describe;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** The API module depends on the JDK only, has no package cycles, and keeps its internals internal. */
@AnalyzeClasses(packages = "dev.braid", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  @ArchTest
  static final ArchRule apiDependsOnTheJdkOnly = classes().that().resideInAPackage("dev.braid..")
      .should().onlyDependOnClassesThat().resideInAnyPackage("dev.braid..", "java..", "javax..", "jdk.jfr..")
      .because("a stable SPI must not drag a library into its users");

  @ArchTest
  static final ArchRule noPackageCycles = slices().matching("dev.braid.(*)..").should().beFreeOfCycles();

  @ArchTest
  static final ArchRule publicApiDoesNotDependOnInternals = classes().that().resideInAPackage("dev.braid")
      .should().onlyDependOnClassesThat().resideOutsideOfPackage("dev.braid.internal..")
      .because("dev.braid.internal is not exported; the public API must not expose it");

  @ArchTest
  static final ArchRule oneDirectionPerLayer = noClasses().that()
      .areAssignableTo(dev.braid.spi.AbstractMuxedStream.class)
      .should().callMethodWhere(describe("a non-public method of AbstractConnection", call ->
          call.getTargetOwner().isAssignableTo(dev.braid.spi.AbstractConnection.class)
              && call.getTarget().resolveMember().map(m -> !m.getModifiers().contains(JavaModifier.PUBLIC))
                  .orElse(false)))
      .because("a stream does not call back into its connection for bookkeeping: the connection observes its "
          + "streams (AbstractMuxedStream.observe: the stream raises signals, the connection's observer acts) instead");
}
