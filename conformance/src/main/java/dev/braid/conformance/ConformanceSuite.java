package dev.braid.conformance;

/**
 * The whole conformance kit. A transport's test class extends this and supplies a fixture:
 *
 * <pre>{@code
 * class TcpConformanceTest extends ConformanceSuite {
 *   @Override protected TransportFixture createFixture() {
 *     return TransportFixture.of(new TcpTransportProvider());
 *   }
 * }
 * }</pre>
 */
public abstract class ConformanceSuite {
  /** A fresh fixture for one test; the kit closes it after the test. */
  protected abstract TransportFixture createFixture() throws Exception;
}
