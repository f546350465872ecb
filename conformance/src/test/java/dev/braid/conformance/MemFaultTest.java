package dev.braid.conformance;

import dev.braid.conformance.reference.MemFixture;
import dev.braid.conformance.reference.MemTransportProvider;

/** The fault rules against the reference transport (its path is in memory: F6 is skipped with the reason). */
class MemFaultTest extends FaultSuite {
  @Override
  protected TransportFixture createFixture() {
    return new MemFixture(new MemTransportProvider());
  }
}
