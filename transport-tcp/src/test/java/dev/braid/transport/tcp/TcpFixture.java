package dev.braid.transport.tcp;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.TransportOptions;
import dev.braid.conformance.ConnectionPair;
import dev.braid.conformance.TransportFixture;
import dev.braid.transport.tcp.internal.TcpConnection;
import java.net.URI;
import java.util.Set;
import java.util.function.UnaryOperator;

/** The kit's provider fixture, plus a real kill: the socket is closed with SO_LINGER 0 (the peer sees a TCP RST). */
final class TcpFixture implements TransportFixture {
  private final TransportFixture delegate;
  private final TransportOptions options;

  TcpFixture(TransportOptions options) {
    this(options, TransportFixture.of(new TcpTransportProvider(), options));
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
    TransportOptions.Builder b = newOptions.toBuilder();
    options.properties().forEach((k, v) -> {
      if (newOptions.property(k).isEmpty()) {
        b.property(k, v);
      }
    });
    TransportOptions merged = b.build();
    TransportFixture rebuilt = delegate.withOptions(merged);
    return rebuilt == null ? null : new TcpFixture(merged, rebuilt);
  }

  /** Rule N8 gives the two ends different limits; our properties (e.g. tls=true) are kept on both. */
  @Override
  public TransportFixture withOptions(TransportOptions dialer, TransportOptions listener) {
    TransportOptions d = merged(dialer);
    TransportOptions l = merged(listener);
    TransportFixture rebuilt = delegate.withOptions(d, l);
    return rebuilt == null ? null : new TcpFixture(l, rebuilt);
  }

  private TransportOptions merged(TransportOptions newOptions) {
    TransportOptions.Builder b = newOptions.toBuilder();
    options.properties().forEach((k, v) -> {
      if (newOptions.property(k).isEmpty()) {
        b.property(k, v);
      }
    });
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

  @Override
  public void kill(Connection c) {
    ((TcpConnection) c).killSocket();
  }

  @Override
  public void close() throws Exception {
    delegate.close();
  }
}
