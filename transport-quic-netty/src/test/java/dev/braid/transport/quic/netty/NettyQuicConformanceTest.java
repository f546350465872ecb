package dev.braid.transport.quic.netty;

import dev.braid.TransportOptions;
import dev.braid.conformance.ConformanceSuite;
import dev.braid.conformance.FaultProxy;
import dev.braid.conformance.TransportFixture;

/** The whole conformance kit against the Netty QUIC transport over loopback (kill rules through the kit's UDP proxy). */
class NettyQuicConformanceTest extends ConformanceSuite {
  @Override
  protected TransportFixture createFixture() {
    return TransportFixture.of(new NettyQuicTransportProvider(), TransportOptions.DEFAULTS, FaultProxy.Kind.UDP);
  }

  @Override
  protected java.util.Map<String, String> knownFailures() {
    return QuicheGaps.KNOWN;
  }
}
