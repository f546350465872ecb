package ${package};

import dev.braid.conformance.FaultProxy;
import dev.braid.conformance.FaultSuite;
import dev.braid.conformance.TransportFixture;

/**
 * The kit's hostile conditions (SPEC.md section F: a reset storm, a killed connection, a peer that stops reading, an
 * open flood, close under load, a faulty path) over {@code ${scheme}://}.
 */
class ${classPrefix}FaultTest extends FaultSuite {
  @Override
  protected TransportFixture createFixture() {
    return ${classPrefix}Fixtures.fixture();
  }

  /** The path F6 puts its fault proxy on; null skips F6, with the reason. */
  @Override
  protected FaultProxy.Kind faultyPath() {
    return ${classPrefix}Fixtures.PATH;
  }
}
