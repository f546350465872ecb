package dev.braid.cli;

import dev.braid.conformance.ConformanceSuite;
import dev.braid.conformance.TransportFixture;
import dev.braid.spi.TransportProvider;

/**
 * The kit aimed at whichever transport the command line is testing now: any provider found by
 * {@link java.util.ServiceLoader}, bundled or third-party, through the kit's generic fixture.
 */
public class DiscoveredTransportConformance extends ConformanceSuite {
  static volatile TransportProvider current;

  @Override
  protected TransportFixture createFixture() {
    TransportProvider p = current;
    if (p == null) {
      throw new IllegalStateException("no transport selected");
    }
    return DiscoveredTransportFaults.fixtureFor(p);
  }
}
