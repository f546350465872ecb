package dev.braid.transport.quic.internal;

import dev.braid.Connection;
import dev.braid.ConnectionClosedException;
import dev.braid.Listener;
import dev.braid.TransportOptions;
import dev.braid.spi.AcceptQueue;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import tech.kwik.core.QuicConnection.QuicVersion;
import tech.kwik.core.server.ApplicationProtocolConnection;
import tech.kwik.core.server.ApplicationProtocolConnectionFactory;
import tech.kwik.core.server.ServerConnectionConfig;
import tech.kwik.core.server.ServerConnector;

/**
 * A kwik {@link ServerConnector} on one UDP socket. Its address carries the SHA-256 of its certificate
 * ({@code quic://127.0.0.1:PORT?certhash=HEX}), which dialers pin.
 *
 * <p>kwik's connector shares its socket among all its connections, so {@link #close()} stops accepting but
 * keeps the connector running until the last accepted connection has ended (or the transport closes). The
 * socket is only ever closed by the connector itself: kwik's receive loop calls {@code System.exit(9)} when
 * its socket fails under it.
 *
 * <p><b>Thread safety.</b> Thread-safe.
 */
final class QuicListener implements Listener {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic");
  private static final int MAX_UNACCEPTED = 128;

  private final QuicTransport transport;
  private final ServerConnector connector;
  private final QuicFrameTap tap = QuicFrameTap.forServer();
  private final URI address;
  private final Set<QuicConnection> live = ConcurrentHashMap.newKeySet();
  private final Object lock = new Object();
  private final AcceptQueue<Connection> accepts = new AcceptQueue<>(MAX_UNACCEPTED, this::refuse);
  private boolean closed; // guarded by lock: no new connections; the connector stops once the last one ends
  private CompletableFuture<Void> connectorStopped; // guarded by lock

  QuicListener(QuicTransport transport, QuicAddress local) throws IOException {
    this.transport = transport;
    TransportOptions options = transport.options();
    ListenerIdentity identity = ListenerIdentity.forListener(options, local.host());
    InetAddress bindAddress = InetAddress.getByName(local.host());
    DatagramSocket socket = new DatagramSocket(new InetSocketAddress(bindAddress, local.port()));
    int maxStreams = QuicTransport.peerStreamCredit(options); // more than Braid's limit: see peerStreamCredit
    ServerConnectionConfig config = ServerConnectionConfig.builder()
        .maxIdleTimeout((int) Math.min(Integer.MAX_VALUE, options.idleTimeout().toMillis()))
        .maxOpenPeerInitiatedBidirectionalStreams(maxStreams)
        .maxOpenPeerInitiatedUnidirectionalStreams(0)
        .maxBidirectionalStreamBufferSize(options.receiveWindow())
        .maxUnidirectionalStreamBufferSize(options.receiveWindow())
        .maxConnectionBufferSize(transport.connectionWindow())
        .retryRequired(false)
        .build();
    try {
      connector = ServerConnector.builder()
          .withSocket(socket)
          .withKeyStore(identity.keyStore(), identity.alias(), identity.password())
          .withSupportedVersion(QuicVersion.V1)
          .withConfiguration(config)
          .withLogger(tap)
          .build();
    } catch (Exception e) {
      socket.close(); // no kwik thread uses it yet
      throw new IOException("kwik refused to start a QUIC listener on " + local.toUri() + ": " + e, e);
    }
    connector.registerApplicationProtocol(transport.alpn(), new Factory(maxStreams));
    connector.start();
    address = new QuicAddress(local.host(), socket.getLocalPort(), identity.certHash()).toUri();
  }

  /** kwik's factory: called on the connection's receiver thread when its handshake completes. */
  private final class Factory implements ApplicationProtocolConnectionFactory {
    private final int maxStreams;

    Factory(int maxStreams) {
      this.maxStreams = maxStreams;
    }

    @Override
    public ApplicationProtocolConnection createConnection(String protocol, tech.kwik.core.QuicConnection kwik) {
      URI remote = remoteOf(kwik);
      QuicConnection c = new QuicConnection(transport, kwik, false, address, remote, QuicTransport.CAPABILITIES,
          transport.options());
      if (!tap.bindServerConnection(c)) {
        LOG.log(System.Logger.Level.ERROR, "kwik's receiver thread is not named receiver-<cid> ({0}); "
            + "this kwik version is not supported", Thread.currentThread().getName());
      }
      kwik.setConnectionListener(c::onDisconnected);
      live.add(c);
      c.onTerminatedRun(() -> connectionEnded(c));
      transport.register(c);
      offer(c);
      return new ApplicationProtocolConnection() {
        @Override
        public void acceptPeerInitiatedStream(tech.kwik.core.QuicStream stream) {
          c.onPeerStream(stream);
        }
      };
    }

    @Override
    public int maxConcurrentPeerInitiatedBidirectionalStreams() {
      return maxStreams;
    }

    @Override
    public int maxConcurrentPeerInitiatedUnidirectionalStreams() {
      return 0;
    }
  }

  private static URI remoteOf(tech.kwik.core.QuicConnection kwik) {
    InetSocketAddress a = Kwik0108.peerAddress(kwik);
    return a != null ? new QuicAddress(a.getAddress().getHostAddress(), a.getPort(), null).toUri()
        : URI.create("quic://0.0.0.0:0");
  }

  private void offer(QuicConnection c) {
    accepts.offer(c);
  }

  /** A connection that will never be accepted: the listener closed, or {@code MAX_UNACCEPTED} already wait. */
  private void refuse(Connection c) {
    LOG.log(System.Logger.Level.DEBUG, "{0}: refusing {1}: listener closed or {2} connections unaccepted", this, c,
        MAX_UNACCEPTED);
    c.abort(new ConnectionClosedException("the listener is closed or its accept queue is full", false));
  }

  private void connectionEnded(QuicConnection c) {
    live.remove(c);
    accepts.remove(c); // ended before anyone accepted it
    boolean stop;
    synchronized (lock) {
      stop = closed && live.isEmpty();
    }
    if (stop) {
      shutdownConnector();
    }
  }

  @Override
  public URI address() {
    return address;
  }

  @Override
  public CompletableFuture<Connection> accept() {
    return accepts.accept();
  }

  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
    }
    accepts.close(() -> new ConnectionClosedException("the QUIC listener is closed", false));
    if (live.isEmpty()) {
      shutdownConnector();
    }
  }

  /** Stops kwik's connector (it closes its own socket); completes when it has. */
  CompletableFuture<Void> shutdownConnector() {
    CompletableFuture<Void> f;
    synchronized (lock) {
      closed = true;
      if (connectorStopped != null) {
        return connectorStopped;
      }
      connectorStopped = f = new CompletableFuture<>();
    }
    try {
      transport.blocking().execute(() -> {
        try {
          connector.close();
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.DEBUG, "kwik connector close failed", e);
        } finally {
          transport.unregister(this);
          f.complete(null);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      f.complete(null);
    }
    return f;
  }

  @Override
  public String toString() {
    return "QuicListener " + address;
  }
}
