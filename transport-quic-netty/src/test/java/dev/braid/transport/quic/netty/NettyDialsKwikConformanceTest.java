package dev.braid.transport.quic.netty;

import dev.braid.TransportOptions;
import dev.braid.conformance.ConformanceSuite;
import dev.braid.conformance.FaultProxy;
import dev.braid.conformance.TransportFixture;

/** The whole kit across the two implementations of {@code quic://}: the Netty transport dials, kwik listens. */
class NettyDialsKwikConformanceTest extends ConformanceSuite {
  @Override
  protected TransportFixture createFixture() {
    return TransportFixture.across(new NettyQuicTransportProvider(), Kwik.provider(),
        TransportOptions.DEFAULTS, FaultProxy.Kind.UDP);
  }

  @Override
  protected java.util.Map<String, String> knownFailures() {
    return QuicheGaps.KNOWN;
  }
}
