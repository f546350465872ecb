package dev.braid.transport.webrtc;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** The WebRTC transport depends on no other transport, and its internals stay internal. */
@AnalyzeClasses(packages = "dev.braid", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {
  @ArchTest
  static final ArchRule noOtherTransports = noClasses()
      .that().resideInAPackage("dev.braid.transport.webrtc..")
      .should().dependOnClassesThat().resideInAnyPackage("dev.braid.transport.tcp..", "dev.braid.transport.quic..");

  @ArchTest
  static final ArchRule internalsStayInside = noClasses()
      .that().resideOutsideOfPackage("dev.braid.transport.webrtc..")
      .should().dependOnClassesThat().resideInAPackage("dev.braid.transport.webrtc.internal..");

  @ArchTest
  static final ArchRule noApiInternals = noClasses()
      .that().resideInAPackage("dev.braid.transport.webrtc..")
      .should().dependOnClassesThat().resideInAPackage("dev.braid.internal..");

  @ArchTest
  static final ArchRule noSystemOut = noClasses()
      .that().resideInAPackage("dev.braid.transport.webrtc..")
      .should().accessField(System.class, "out")
      .orShould().accessField(System.class, "err");
}
