package dev.braid.transport.quic.netty;

import dev.braid.TransportOptions;
import dev.braid.conformance.FaultProxy;
import dev.braid.conformance.FaultSuite;
import dev.braid.conformance.TransportFixture;

/**
 * The kit's fault rules against the Netty QUIC transport: reset storm, kill mid-transfer, stopped reader, open flood,
 * graceful close under load, and (F6) a UDP path through the kit's fault proxy with 2% loss and 0–5 ms jitter.
 */
class NettyQuicFaultTest extends FaultSuite {
  @Override
  protected TransportFixture createFixture() {
    return TransportFixture.of(new NettyQuicTransportProvider(), TransportOptions.DEFAULTS, FaultProxy.Kind.UDP);
  }

  @Override
  protected FaultProxy.Kind faultyPath() {
    return FaultProxy.Kind.UDP;
  }
}
