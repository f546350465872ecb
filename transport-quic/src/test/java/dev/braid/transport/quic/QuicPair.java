package dev.braid.transport.quic;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Two QUIC transports on loopback and one connection between them; closing the pair closes both transports. */
final class QuicPair implements AutoCloseable {
  final Transport server;
  final Transport client;
  final Listener listener;
  final Connection dialer;
  final Connection accepted;

  private QuicPair(Transport server, Transport client, Listener listener, Connection dialer, Connection accepted) {
    this.server = server;
    this.client = client;
    this.listener = listener;
    this.dialer = dialer;
    this.accepted = accepted;
  }

  static QuicPair connect(TransportOptions options) throws Exception {
    QuicTransportProvider p = new QuicTransportProvider();
    Transport server = p.create(options);
    Transport client = p.create(options);
    try {
      Listener listener = server.listen(URI.create("quic://127.0.0.1:0"));
      CompletableFuture<Connection> a = listener.accept();
      Connection dialer = client.dial(listener.address()).get(20, TimeUnit.SECONDS);
      return new QuicPair(server, client, listener, dialer, a.get(20, TimeUnit.SECONDS));
    } catch (Exception | Error e) {
      client.close();
      server.close();
      throw e;
    }
  }

  @Override
  public void close() {
    client.close();
    server.close();
  }
}
