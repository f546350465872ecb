package dev.braid.conformance;

import dev.braid.conformance.reference.MemFixture;
import dev.braid.conformance.reference.MemTransportProvider;

/**
 * The kit aimed at a pair of implementations of one scheme, one of them deliberately broken; {@link
 * CrossImplementationTest} sets the pair and runs this class through the JUnit Platform launcher. Not named *Test:
 * Surefire does not run it directly.
 */
public class CrossTarget extends ConformanceSuite {
  static volatile MemTransportProvider dialer = new MemTransportProvider();
  static volatile MemTransportProvider listener = new MemTransportProvider();

  @Override
  protected TransportFixture createFixture() {
    return MemFixture.across(dialer, listener);
  }
}
