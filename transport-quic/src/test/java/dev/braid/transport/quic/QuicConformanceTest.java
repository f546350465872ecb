package dev.braid.transport.quic;

import dev.braid.conformance.ConformanceSuite;
import dev.braid.conformance.TransportFixture;

/** The whole conformance kit against the QUIC transport over loopback. */
class QuicConformanceTest extends ConformanceSuite {
  @Override
  protected TransportFixture createFixture() {
    return TransportFixture.of(new QuicTransportProvider());
  }
}
