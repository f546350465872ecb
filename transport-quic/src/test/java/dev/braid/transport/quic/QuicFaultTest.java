package dev.braid.transport.quic;

import dev.braid.TransportOptions;
import dev.braid.conformance.FaultProxy;
import dev.braid.conformance.FaultSuite;
import dev.braid.conformance.TransportFixture;

/**
 * The kit's fault rules against the QUIC transport: reset storm, kill mid-transfer, stopped reader, open
 * flood, graceful close under load, and (F6) a UDP path through the kit's fault proxy with 2% loss and
 * 0–5 ms jitter, so datagrams are dropped and reordered.
 */
class QuicFaultTest extends FaultSuite {
  @Override
  protected TransportFixture createFixture() {
    // over UDP: the kit's killable() variant routes each connection through its UDP FaultProxy and black-holes it
    return TransportFixture.of(new QuicTransportProvider(), TransportOptions.DEFAULTS, FaultProxy.Kind.UDP);
  }

  @Override
  protected FaultProxy.Kind faultyPath() {
    return FaultProxy.Kind.UDP;
  }
}
