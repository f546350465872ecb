package dev.braid.transport.quic.netty;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** The module's layering, checked on its main classes. */
@AnalyzeClasses(packages = "dev.braid.transport.quic.netty", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  @ArchTest
  static final ArchRule independentOfTheOtherQuic = noClasses()
      .that().resideInAPackage("dev.braid.transport.quic.netty..")
      .should().dependOnClassesThat().resideInAnyPackage("dev.braid.transport.quic", "dev.braid.transport.quic.internal..",
          "dev.braid.transport.tcp..", "dev.braid.transport.webrtc..", "tech.kwik..")
      .as("the Netty QUIC transport shares the wire mapping with the kwik transport, not its code (nor kwik, LGPL)");

  @ArchTest
  static final ArchRule dependsOnlyOnApiNettyAndJdk = classes()
      .that().resideInAPackage("dev.braid.transport.quic.netty..")
      .should().onlyDependOnClassesThat().resideInAnyPackage("dev.braid", "dev.braid.spi", "dev.braid.tls",
          "dev.braid.transport.quic.netty..", "io.netty..", "java..", "javax..")
      .as("the Netty QUIC transport uses only the Braid API/SPI/TLS helpers, Netty and the JDK");

  @ArchTest
  static final ArchRule nettyInternalsInOnePlace = noClasses()
      .that().resideInAPackage("dev.braid.transport.quic.netty..")
      .and().doNotHaveSimpleName("NettyInternals")
      .should().callMethodWhere(com.tngtech.archunit.base.DescribedPredicate.describe("reflection",
          c -> c.getTarget().getOwner().getName().startsWith("java.lang.invoke.MethodHandles")))
      .as("every use of Netty's internals is in NettyInternals");

  @ArchTest
  static final ArchRule noBraidInternals = noClasses()
      .that().resideInAPackage("dev.braid.transport.quic.netty..")
      .should().dependOnClassesThat().resideInAPackage("dev.braid.internal..")
      .as("the Netty QUIC transport does not use the API's internal package");
}
