package dev.braid.examples;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** The examples are application code: they use the user API alone and pick a transport by URI. */
@AnalyzeClasses(packages = "dev.braid.examples", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {
  @ArchTest
  static final ArchRule noTransportInCode = noClasses().should().dependOnClassesThat()
      .resideInAPackage("dev.braid.transport..")
      .because("an example runs over any transport found at run time, by the URI's scheme");

  @ArchTest
  static final ArchRule noSpi = noClasses().should().dependOnClassesThat()
      .resideInAPackage("dev.braid.spi..")
      .because("the SPI is for transport authors; an application needs only dev.braid");
}
