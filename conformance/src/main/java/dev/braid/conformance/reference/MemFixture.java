package dev.braid.conformance.reference;

import dev.braid.Connection;
import dev.braid.conformance.ForwardingFixture;
import dev.braid.conformance.TransportFixture;
import java.net.URI;
import java.util.function.UnaryOperator;

/**
 * The kit's fixture for the reference transport: the generic provider fixture, plus a silent kill (the killed end
 * stops sending anything and ends; the survivor learns of it through its idle timeout).
 */
public final class MemFixture extends ForwardingFixture {
  /** A fixture over {@code provider} with default options. */
  public MemFixture(MemTransportProvider provider) {
    super(TransportFixture.of(provider));
  }

  /**
   * A cross-implementation fixture ({@link TransportFixture#across}): {@code dialer}'s transport dials {@code
   * listener}'s, two implementations of the {@code mem} scheme (see {@link MemTransportProvider#secondImplementation}),
   * with the reference transport's silent kill.
   */
  public static MemFixture across(MemTransportProvider dialer, MemTransportProvider listener) {
    return new MemFixture(TransportFixture.across(dialer, listener, dev.braid.TransportOptions.DEFAULTS));
  }

  private MemFixture(TransportFixture delegate) {
    super(delegate);
  }

  @Override
  protected TransportFixture rewrap(TransportFixture rebuilt) {
    return new MemFixture(rebuilt);
  }

  /** Every connection of the reference transport can vanish without a word. */
  @Override
  public TransportFixture killable() {
    return this;
  }

  @Override
  public void kill(Connection c) {
    BrokenStreams.unwrap(c).vanish();
  }

  /** In-memory connections have no path a proxy could sit on: F6 is skipped with that reason. */
  @Override
  public TransportFixture withDialRoute(UnaryOperator<URI> route) {
    return null;
  }
}
