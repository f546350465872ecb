package dev.braid.transport.quic;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.simpleName;
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
      .that().resideInAPackage("dev.braid.transport.quic..")
      .should().dependOnClassesThat().resideInAnyPackage("dev.braid.transport.tcp..", "dev.braid.transport.webrtc..")
      .as("the quic transport does not depend on other transports");

  @ArchTest
  static final ArchRule dependsOnlyOnApiKwikAndJdk = classes()
      .that().resideInAPackage("dev.braid.transport.quic..")
      .should().onlyDependOnClassesThat().resideInAnyPackage("dev.braid", "dev.braid.spi", "dev.braid.tls",
          "dev.braid.transport.quic..", "tech.kwik..", "java..", "javax..")
      .as("the quic transport uses only the Braid API/SPI/TLS helpers, kwik and the JDK");

  @ArchTest
  static final ArchRule theBaselineIsKwikDirect = noClasses()
      .that().resideInAPackage("dev.braid.transport.quic.internal.bench..")
      .should().dependOnClassesThat(resideInAnyPackage("dev.braid.transport.quic", "dev.braid.transport.quic.internal")
          .and(not(simpleName("Kwik0108"))))
      .as("the bench baseline measures kwik used directly: of the transport it uses only Kwik0108's -ea switch");

  @ArchTest
  static final ArchRule internalsStayInside = noClasses()
      .that().resideOutsideOfPackage("dev.braid.transport.quic..")
      .should().dependOnClassesThat().resideInAPackage("dev.braid.transport.quic.internal..")
      .as("nothing outside the quic transport uses its internals");

  @ArchTest
  static final ArchRule noBraidInternals = noClasses()
      .that().resideInAPackage("dev.braid.transport.quic..")
      .should().dependOnClassesThat().resideInAPackage("dev.braid.internal..")
      .as("the quic transport does not use the API's internal package");
}
