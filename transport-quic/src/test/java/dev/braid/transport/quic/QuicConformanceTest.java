package dev.braid.transport.quic;

import dev.braid.TransportOptions;
import dev.braid.conformance.ConformanceSuite;
import dev.braid.conformance.FaultProxy;
import dev.braid.conformance.TransportFixture;

/** The whole conformance kit against the QUIC transport over loopback (the kill rules through the kit's UDP proxy). */
class QuicConformanceTest extends ConformanceSuite {
  @Override
  protected TransportFixture createFixture() {
    // over UDP: the kit's killable() variant routes each connection through its UDP FaultProxy and black-holes it
    return TransportFixture.of(new QuicTransportProvider(), TransportOptions.DEFAULTS, FaultProxy.Kind.UDP);
  }
}
