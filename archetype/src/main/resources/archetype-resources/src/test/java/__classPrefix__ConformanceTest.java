package ${package};

import dev.braid.conformance.ConformanceSuite;
import dev.braid.conformance.TransportFixture;
import java.util.Map;

/**
 * Every rule of the Braid specification (SPEC.md sections L to R) over {@code ${scheme}://}, each run from both
 * ends. A failure names its rule and says what to check first; rules that need a capability the provider does not
 * declare are reported as skipped, with the reason.
 */
class ${classPrefix}ConformanceTest extends ConformanceSuite {
  @Override
  protected TransportFixture createFixture() {
    return ${classPrefix}Fixtures.fixture();
  }

  /**
   * Rules this transport is known to fail today, by rule id, each with the reason, e.g.
   * {@code Map.of("H8", "a FIN can overtake queued data: issue 12")}. They are reported as skipped with
   * "KNOWN FAILURE: reason", never as passes. Keep it empty: it is for bugs being worked on.
   */
  @Override
  protected Map<String, String> knownFailures() {
    return Map.of();
  }
}
