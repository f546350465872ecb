package dev.braid.conformance;

import dev.braid.conformance.reference.Breakage;
import dev.braid.conformance.reference.MemFixture;
import dev.braid.conformance.reference.MemTransportProvider;

/**
 * The kit aimed at a deliberately broken reference transport; {@link KitSelfTest} sets the breakage and
 * runs this class through the JUnit Platform launcher. Not named *Test: Surefire does not run it directly.
 */
public class BrokenTransportTarget extends ConformanceSuite {
  static volatile Breakage breakage = Breakage.NONE;

  @Override
  protected TransportFixture createFixture() {
    return new MemFixture(new MemTransportProvider(breakage));
  }
}
