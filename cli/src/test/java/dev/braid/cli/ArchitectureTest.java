package dev.braid.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** The command line finds transports at run time; it never names one in code. */
@AnalyzeClasses(packages = "dev.braid.cli", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {
  @ArchTest
  static final ArchRule noCompileTimeTransportDependency = noClasses().should().dependOnClassesThat()
      .resideInAPackage("dev.braid.transport..")
      .because("transports are found with ServiceLoader, so a third-party one is treated the same way");
}
