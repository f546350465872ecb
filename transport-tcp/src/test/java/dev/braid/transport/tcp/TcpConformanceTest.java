package dev.braid.transport.tcp;

import dev.braid.TransportOptions;
import dev.braid.conformance.ConformanceSuite;
import dev.braid.conformance.TransportFixture;

/** The whole conformance kit over plain TCP + yamux. */
class TcpConformanceTest extends ConformanceSuite {
  @Override
  protected TransportFixture createFixture() {
    return TcpFixture.of(TransportOptions.DEFAULTS);
  }
}
