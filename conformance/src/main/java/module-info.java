/** The Braid conformance kit (TCK): abstract JUnit 5 suites that every transport's tests extend. */
module dev.braid.conformance {
  requires transitive dev.braid.api;
  requires transitive org.junit.jupiter.api;
  requires org.junit.jupiter.params;
  requires org.junit.platform.launcher;
  requires jdk.jfr;

  exports dev.braid.conformance;
  exports dev.braid.conformance.reference;

  provides dev.braid.spi.TransportProvider with dev.braid.conformance.reference.MemTransportProvider;

  opens dev.braid.conformance to org.junit.platform.commons;
}
