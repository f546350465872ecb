package dev.braid.transport.tcp;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.TransportOptions;
import dev.braid.conformance.ConnectionPair;
import dev.braid.conformance.TransportFixture;
import dev.braid.transport.tcp.internal.TcpConnection;
import java.util.Set;

/** The kit's provider fixture, plus a real kill: the socket is closed with SO_LINGER 0 (the peer sees a TCP RST). */
final class TcpFixture implements TransportFixture {
  private final TransportFixture delegate;
  private final TransportOptions options;

  TcpFixture(TransportOptions options) {
    this.options = options;
    this.delegate = TransportFixture.of(new TcpTransportProvider(), options);
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
    return new TcpFixture(b.build());
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
