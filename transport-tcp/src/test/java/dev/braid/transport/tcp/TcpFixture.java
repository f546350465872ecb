package dev.braid.transport.tcp;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.TransportOptions;
import dev.braid.conformance.ConnectionPair;
import dev.braid.conformance.FaultProxy;
import dev.braid.conformance.TransportFixture;
import java.net.URI;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The kit's provider fixture over TCP, keeping our properties (e.g. tls=true) when rebuilt; its killable variant
 * routes connections through the kit's proxy, which kills them without a word.
 */
final class TcpFixture implements TransportFixture {
  private final TransportFixture delegate;
  private final TransportOptions options;

  TcpFixture(TransportOptions options) {
    this(options, TransportFixture.of(new TcpTransportProvider(), options, FaultProxy.Kind.TCP));
  }

  private TcpFixture(TransportOptions options, TransportFixture delegate) {
    this.options = options;
    this.delegate = delegate;
  }

  /** The kit's faulty-path rule routes the dialer through its proxy. */
  @Override
  public TransportFixture withDialRoute(UnaryOperator<URI> route) {
    TransportFixture routed = delegate.withDialRoute(route);
    return routed == null ? null : new TcpFixture(options, routed);
  }

  /** The kit's limit rules rebuild the fixture with other limits; our properties (e.g. tls=true) are kept. */
  @Override
  public TransportFixture withOptions(TransportOptions newOptions) {
    TransportOptions m = merged(newOptions);
    TransportFixture rebuilt = delegate.withOptions(m);
    return rebuilt == null ? null : new TcpFixture(m, rebuilt);
  }

  /** Rule N8 gives the two ends different limits; our properties (e.g. tls=true) are kept on both. */
  @Override
  public TransportFixture withOptions(TransportOptions dialer, TransportOptions listener) {
    TransportOptions d = merged(dialer);
    TransportOptions l = merged(listener);
    TransportFixture rebuilt = delegate.withOptions(d, l);
    return rebuilt == null ? null : new TcpFixture(l, rebuilt);
  }

  /** {@code newOptions} plus those of our properties it does not set. */
  private TransportOptions merged(TransportOptions newOptions) {
    TransportOptions.Builder b = newOptions.toBuilder();
    options.properties().forEach((k, v) -> b.property(k, newOptions.properties().getOrDefault(k, v)));
    return b.build();
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

  /** Connections routed through a proxy of the kit, which kills them without a word by black-holing it. */
  @Override
  public TransportFixture killable() {
    TransportFixture k = delegate.killable();
    return k == null ? null : new TcpFixture(options, k);
  }

  @Override
  public void kill(Connection c) {
    delegate.kill(c);
  }

  @Override
  public void close() throws Exception {
    delegate.close();
  }
}
