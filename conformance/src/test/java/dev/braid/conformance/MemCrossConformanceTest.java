package dev.braid.conformance;

import dev.braid.conformance.reference.Breakage;
import dev.braid.conformance.reference.MemFixture;
import dev.braid.conformance.reference.MemTransportProvider;

/**
 * The kit's cross-implementation mode: every rule with the dialing side made by one implementation of a scheme and
 * the listening side by another (here the reference transport's second implementation of {@code mem://} dialing the
 * first). The Netty and kwik QUIC plugins will run the kit this way, both directions.
 */
class MemCrossConformanceTest extends ConformanceSuite {
  @Override
  protected TransportFixture createFixture() {
    return MemFixture.across(MemTransportProvider.secondImplementation(Breakage.NONE), new MemTransportProvider());
  }
}
