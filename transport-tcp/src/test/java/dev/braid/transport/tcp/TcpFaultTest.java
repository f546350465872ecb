package dev.braid.transport.tcp;

import dev.braid.TransportOptions;
import dev.braid.conformance.FaultProxy;
import dev.braid.conformance.FaultSuite;
import dev.braid.conformance.TransportFixture;

/** The kit's fault rules (F1–F6) over TCP + yamux; the faulty path is a TCP proxy that cuts with RST. */
class TcpFaultTest extends FaultSuite {
  @Override
  protected TransportFixture createFixture() {
    return TcpFixture.of(TransportOptions.DEFAULTS);
  }

  @Override
  protected FaultProxy.Kind faultyPath() {
    return FaultProxy.Kind.TCP;
  }
}
