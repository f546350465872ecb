package ${package};

import dev.braid.TransportOptions;
import dev.braid.conformance.FaultProxy;
import dev.braid.conformance.TransportFixture;

/** The conformance kit's fixture for {@code ${scheme}://}, shared by the kit's two test classes. */
final class ${classPrefix}Fixtures {
  /**
   * What the transport's traffic runs over on loopback: {@code TCP} or {@code UDP}. The kit puts a {@link FaultProxy}
   * on that path: the fixture's {@code killable()} variant kills a connection without a word by black-holing its
   * proxy (rules N2, N5, F2), and F6 runs over it (a RST cut for TCP; loss, delay and reordering for UDP). Set it to
   * {@code null} when the traffic cannot go through a loopback proxy: those rules are then skipped, with the reason,
   * unless you write a fixture of your own that overrides {@code killable()} and {@code kill(Connection)} (SPEC.md N2
   * says what a silent kill must do).
   */
  static final FaultProxy.Kind PATH = FaultProxy.Kind.TCP;

  private ${classPrefix}Fixtures() {}

  /**
   * Listens on the provider's {@code testListenAddress()} and dials the listener's address, one pair per call.
   * Transport-specific settings go into the options as properties ({@code TransportOptions.builder().property(...)}).
   */
  static TransportFixture fixture() {
    return TransportFixture.of(new ${classPrefix}TransportProvider(), TransportOptions.DEFAULTS, PATH);
  }
}
