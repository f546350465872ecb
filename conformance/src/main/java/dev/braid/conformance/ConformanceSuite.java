package dev.braid.conformance;

import dev.braid.Capability;
import dev.braid.Connection;

/**
 * The whole conformance kit: one test per numbered rule of {@code SPEC.md}, each run from both sides
 * (the dialer opens the stream, then the listener does). A transport's test class extends this and
 * supplies a fixture:
 *
 * <pre>{@code
 * class TcpConformanceTest extends ConformanceSuite {
 *   @Override protected TransportFixture createFixture() {
 *     return TransportFixture.of(new TcpTransportProvider());
 *   }
 * }
 * }</pre>
 *
 * <p>Around every test the kit watches for uncaught exceptions on any thread (one fails the test that
 * caused it), and after it checks for leaks: every connection the test made has ended with no stream left
 * in {@link Connection#streams()}, and every thread the transport started has stopped. Rules that need a
 * {@link Capability} the transport does not declare are reported as skipped, with the reason.
 *
 * <p>Method names start with the rule's id ({@code H1_...}), so a failure names the rule it broke.
 *
 * <p>The rules are written in one interface per section of {@code SPEC.md}, each a group of JUnit test
 * methods, and assembled here: {@code LifecycleRules} (L), {@code OpeningRules} (O), {@code HalfCloseRules} (H),
 * {@code CloseResetRules} (C), {@code DataRules} (D), {@code BackpressureRules} (B), {@code ConnectionRules} (N),
 * {@code EventRules} (E), {@code ThreadRules} (T), {@code ModelRules} (M) and {@code RaceRules} (R). The rules of section F are
 * {@link FaultSuite}'s.
 */
public abstract class ConformanceSuite extends KitHarness implements LifecycleRules, OpeningRules, HalfCloseRules,
    CloseResetRules, DataRules, BackpressureRules, ConnectionRules, EventRules, ThreadRules, ModelRules, RaceRules {
  /** Runs every rule from both ends; see {@link KitHarness} for what is checked around each test. */
  protected ConformanceSuite() {}
}
