package dev.braid.transport.quic.netty;

import dev.braid.TransportOptions;
import dev.braid.conformance.ConformanceSuite;
import dev.braid.conformance.FaultProxy;
import dev.braid.conformance.TransportFixture;

/**
 * The whole kit across the two implementations of {@code quic://}: the kwik transport dials, the Netty transport
 * listens. Every rule checks that they keep Braid's promises to each other (one wire mapping, two code bases).
 */
class KwikDialsNettyConformanceTest extends ConformanceSuite {
  @Override
  protected TransportFixture createFixture() {
    return TransportFixture.across(Kwik.provider(), new NettyQuicTransportProvider(),
        TransportOptions.DEFAULTS, FaultProxy.Kind.UDP);
  }

  @Override
  protected java.util.Map<String, String> knownFailures() {
    return QuicheGaps.KNOWN;
  }
}
