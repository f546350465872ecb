package dev.braid.conformance;

import dev.braid.conformance.reference.MemFixture;
import dev.braid.conformance.reference.MemTransportProvider;

/** The reference in-memory transport passes every rule of the kit. */
class MemConformanceTest extends ConformanceSuite {
  @Override
  protected TransportFixture createFixture() {
    return new MemFixture(new MemTransportProvider());
  }
}
