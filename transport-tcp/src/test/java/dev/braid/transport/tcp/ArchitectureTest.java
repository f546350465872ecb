package dev.braid.transport.tcp;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import dev.braid.TransportOptions;
import dev.braid.spi.AcceptQueue;
import java.security.KeyStore;
import java.security.MessageDigest;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

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
      .should().onlyDependOnClassesThat().resideInAnyPackage("dev.braid", "dev.braid.spi", "dev.braid.tls",
          "dev.braid.transport.tcp..", "io.netty..", "java..", "javax..")
      .as("the tcp transport uses only the Braid API/SPI/TLS, Netty and the JDK");

  @ArchTest
  static final ArchRule usesTheSharedTlsPieces = noClasses()
      .that().resideInAPackage("dev.braid.transport.tcp..")
      .should().dependOnClassesThat().belongToAnyOf(KeyStore.class, MessageDigest.class, X509TrustManager.class,
          X509ExtendedTrustManager.class)
      .as("the tcp transport loads no keystore, hashes no certificate and trusts nothing by itself "
          + "(dev.braid.tls.ListenerIdentity and CertificatePins do)");

  @ArchTest
  static final ArchRule usesTheSharedListener = noClasses()
      .that().resideInAPackage("dev.braid.transport.tcp..")
      .should().dependOnClassesThat().belongToAnyOf(AcceptQueue.class)
      .as("the tcp listener is an AbstractListener (which owns the accept queue)");

  @ArchTest
  static final ArchRule readsOptionsThroughTypedKeys = noClasses()
      .that().resideInAPackage("dev.braid.transport.tcp..")
      .should().callMethod(TransportOptions.class, "property", String.class)
      .orShould().callMethod(TransportOptions.class, "properties")
      .as("the tcp transport reads its settings only through OptionKeys (TransportOptions.get)");

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
