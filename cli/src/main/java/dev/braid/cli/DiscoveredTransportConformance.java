package dev.braid.cli;

import dev.braid.conformance.ConformanceSuite;
import dev.braid.conformance.TransportFixture;

/**
 * The kit aimed at whichever transport the command line is testing now: any provider found by
 * {@link java.util.ServiceLoader}, bundled or third-party, or a pair of implementations of one scheme, through the
 * kit's generic fixture.
 */
public class DiscoveredTransportConformance extends ConformanceSuite {
  static volatile KitSubject current;

  @Override
  protected TransportFixture createFixture() {
    KitSubject p = current;
    if (p == null) {
      throw new IllegalStateException("no transport selected");
    }
    return DiscoveredTransportFaults.fixtureFor(p);
  }
}
