package dev.braid.conformance.reference;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.TransportOptions;
import dev.braid.conformance.ConnectionPair;
import dev.braid.conformance.TransportFixture;
import java.util.Set;

/**
 * The kit's fixture for the reference transport: the generic provider fixture, plus a silent kill (the killed end
 * stops sending anything and ends; the survivor learns of it through its idle timeout).
 */
public final class MemFixture implements TransportFixture {
  private final TransportFixture delegate;
  private final MemTransportProvider provider;

  /** A fixture over {@code provider} with default options. */
  public MemFixture(MemTransportProvider provider) {
    this(provider, TransportFixture.of(provider));
  }

  private MemFixture(MemTransportProvider provider, TransportFixture delegate) {
    this.provider = provider;
    this.delegate = delegate;
  }

  @Override
  public ConnectionPair connect() throws Exception {
    return delegate.connect();
  }

  @Override
  public Set<Capability> capabilities() {
    return delegate.capabilities();
  }

  @Override
  public String transportId() {
    return delegate.transportId();
  }

  @Override
  public TransportFixture withOptions(TransportOptions options) {
    return new MemFixture(provider, delegate.withOptions(options));
  }

  @Override
  public TransportFixture withOptions(TransportOptions dialer, TransportOptions listener) {
    return new MemFixture(provider, delegate.withOptions(dialer, listener));
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

  @Override
  public void close() throws Exception {
    delegate.close();
  }
}
