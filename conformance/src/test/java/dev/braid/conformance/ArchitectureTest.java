package dev.braid.conformance;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** The kit depends on the API, JUnit and the JDK only, never on a transport, and uses no API internals. */
@AnalyzeClasses(packages = "dev.braid.conformance", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {
  @ArchTest
  static final ArchRule onlyApiJunitAndJdk = classes().should().onlyDependOnClassesThat()
      .resideInAnyPackage("dev.braid", "dev.braid.spi", "dev.braid.conformance..", "java..", "javax..",
          "org.junit..", "org.opentest4j..", "org.apiguardian..")
      .because("third-party transport authors must be able to run the kit with nothing but the API");

  @ArchTest
  static final ArchRule noPackageCycles = slices().matching("dev.braid.conformance.(*)..").should().beFreeOfCycles();
}
