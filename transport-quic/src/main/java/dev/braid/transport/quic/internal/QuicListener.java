package dev.braid.transport.quic.internal;

import dev.braid.TransportOptions;
import dev.braid.spi.AbstractListener;
import dev.braid.spi.DaemonThreads;
import dev.braid.tls.ListenerIdentity;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import tech.kwik.core.QuicConnection.QuicVersion;
import tech.kwik.core.server.ApplicationProtocolConnection;
import tech.kwik.core.server.ApplicationProtocolConnectionFactory;
import tech.kwik.core.server.ServerConnectionConfig;
import tech.kwik.core.server.ServerConnector;

/**
 * A kwik {@link ServerConnector} on one UDP socket. Its address carries the SHA-256 of its certificate
 * ({@code quic://127.0.0.1:PORT?certhash=HEX}), which dialers pin. The certificate is the shared
 * {@link ListenerIdentity}: the {@code tls.keyStore} options' key, or a self-signed one naming every address the
 * listener can be dialed at ({@link Kwik0108#certificateNames}).
 *
 * <p>kwik's connector shares its socket among all its connections, so {@link #close()} stops accepting but
 * keeps the connector running until the last accepted connection has ended (or the transport closes). The
 * socket is only ever closed by the connector itself: kwik's receive loop calls {@code System.exit(9)} when
 * its socket fails under it.
 *
 * <p><b>Thread safety.</b> Thread-safe, as {@link AbstractListener}.
 */
final class QuicListener extends AbstractListener {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic");
  private static final int MAX_UNACCEPTED = 128;

  private final QuicTransport transport;
  private final ServerConnector connector;
  private final QuicFrameTap tap = QuicFrameTap.forServer();
  private final Set<QuicConnection> live = ConcurrentHashMap.newKeySet();
  private final Object lock = new Object();
  private CompletableFuture<Void> connectorStopped; // guarded by lock

  QuicListener(QuicTransport transport, QuicAddress local) throws IOException {
    super(QuicTransport.ID, local.toUri(), MAX_UNACCEPTED);
    this.transport = transport;
    TransportOptions options = transport.options();
    Kwik0108.CertificateNames names = Kwik0108.certificateNames(local.host());
    ListenerIdentity identity = ListenerIdentity.from(options, "braid", names.dnsNames(), names.addresses());
    char[] password = ListenerIdentity.randomPassword();
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
          .withKeyStore(identity.toKeyStore(password), ListenerIdentity.keyStoreAlias(), password)
          .withSupportedVersion(QuicVersion.V1)
          .withConfiguration(config)
          .withLogger(tap)
          .build();
    } catch (Exception e) {
      socket.close(); // no kwik thread uses it yet
      throw new IOException("kwik refused to start a QUIC listener on " + local.toUri() + ": " + e, e);
    }
    bound(new QuicAddress(local.host(), socket.getLocalPort(), identity.certificateHash()).toUri());
    connector.registerApplicationProtocol(transport.alpn(), new Factory(maxStreams));
    connector.start();
  }

  /** kwik's factory: called on the connection's receiver thread when its handshake completes. */
  private final class Factory implements ApplicationProtocolConnectionFactory {
    private final int maxStreams;

    Factory(int maxStreams) {
      this.maxStreams = maxStreams;
    }

    @Override
    public ApplicationProtocolConnection createConnection(String protocol, tech.kwik.core.QuicConnection kwik) {
      QuicConnection c = new QuicConnection(transport, kwik, false, address(), remoteOf(kwik),
          QuicTransport.CAPABILITIES, transport.options());
      if (!tap.bindServerConnection(c)) {
        LOG.log(System.Logger.Level.ERROR, "kwik's receiver thread is not named receiver-<cid> ({0}); "
            + "this kwik version is not supported", Thread.currentThread().getName());
      }
      kwik.setConnectionListener(c::onDisconnected);
      live.add(c);
      c.onTerminatedRun(() -> connectionEnded(c));
      transport.register(c);
      offer(c); // closed by the base class when the listener is closed or MAX_UNACCEPTED already wait
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

  /**
   * A connection of this listener ended. The connector stops with the last one once the listener is closed: the
   * listener's close sets {@link #isClosed()} before {@link #closeNative()} looks at {@code live}, and this removes
   * from {@code live} before it looks at {@link #isClosed()}, so one of the two sees both.
   */
  private void connectionEnded(QuicConnection c) {
    live.remove(c);
    if (isClosed() && live.isEmpty()) {
      shutdownConnector();
    }
  }

  /** The port stays with kwik's connector until the last accepted connection has ended (see the class comment). */
  @Override
  protected void closeNative() {
    if (live.isEmpty()) {
      shutdownConnector();
    }
  }

  /** Stops kwik's connector (it closes its own socket); completes when it has. The transport's close calls it too. */
  CompletableFuture<Void> shutdownConnector() {
    CompletableFuture<Void> f;
    synchronized (lock) {
      if (connectorStopped != null) {
        return connectorStopped;
      }
      connectorStopped = f = new CompletableFuture<>();
    }
    Runnable stop = () -> {
      try {
        connector.close(); // may wait for kwik's connections to drain
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.DEBUG, "kwik connector close failed", e);
      } finally {
        transport.unregister(this);
        f.complete(null);
      }
    };
    try {
      transport.blocking().execute(stop);
    } catch (RejectedExecutionException closed) { // the transport's pools are gone: a thread of its own
      DaemonThreads.factory("braid-quic-connector-close-").newThread(stop).start();
    }
    return f;
  }
}
