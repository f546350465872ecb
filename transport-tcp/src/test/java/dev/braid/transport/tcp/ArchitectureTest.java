package dev.braid.transport.tcp;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** The module's layering, checked on its main classes. */
@AnalyzeClasses(packages = "dev.braid", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  @ArchTest
  static final ArchRule doesNotDependOnOtherTransports = noClasses()
      .that().resideInAPackage("dev.braid.transport.tcp..")
      .should().dependOnClassesThat().resideInAnyPackage("dev.braid.transport.quic..", "dev.braid.transport.webrtc..")
      .as("the tcp transport does not depend on other transports");

  @ArchTest
  static final ArchRule dependsOnlyOnApiNettyAndJdk = classes()
      .that().resideInAPackage("dev.braid.transport.tcp..")
      .should().onlyDependOnClassesThat().resideInAnyPackage("dev.braid", "dev.braid.spi", "dev.braid.transport.tcp..",
          "io.netty..", "java..", "javax..")
      .as("the tcp transport uses only the Braid API/SPI, Netty and the JDK");

  @ArchTest
  static final ArchRule internalsStayInside = noClasses()
      .that().resideOutsideOfPackage("dev.braid.transport.tcp..")
      .should().dependOnClassesThat().resideInAPackage("dev.braid.transport.tcp.internal..")
      .as("nothing outside the tcp transport uses its internals");

  @ArchTest
  static final ArchRule noBraidInternals = noClasses()
      .that().resideInAPackage("dev.braid.transport.tcp..")
      .should().dependOnClassesThat().resideInAPackage("dev.braid.internal..")
      .as("the tcp transport does not use the API's internal package");
}
