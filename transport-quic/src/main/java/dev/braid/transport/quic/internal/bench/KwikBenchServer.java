package dev.braid.transport.quic.internal.bench;

import dev.braid.spi.DaemonThreads;
import dev.braid.tls.ListenerIdentity;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import tech.kwik.core.QuicConnection.QuicVersion;
import tech.kwik.core.QuicStream;
import tech.kwik.core.server.ApplicationProtocolConnection;
import tech.kwik.core.server.ApplicationProtocolConnectionFactory;
import tech.kwik.core.server.ServerConnectionConfig;
import tech.kwik.core.server.ServerConnector;

/**
 * The server half of {@link KwikBaseline}: one kwik {@link ServerConnector} on a loopback UDP socket, used directly.
 * It echoes streams whose first byte is {@code 'E'} and reads every other stream to its end; at the end of a stream
 * (the client's FIN) it sends its own FIN.
 *
 * <p>Windows match Braid's QUIC defaults: 256 KiB per stream, 16 MiB per connection, up to 16384 concurrent client
 * streams. The certificate is a fresh self-signed EC P-256 one ({@link ListenerIdentity}), which the client pins.
 * kwik's streams are blocking: each is served on a pool of 64 threads, started with their 64 KiB read buffers at
 * {@link #start()} (streams beyond 64 wait in the pool's queue, so an idle stream costs kwik's state on both ends and a
 * queued task, no read buffer).
 *
 * <p><b>Thread safety.</b> {@link #start()} and {@link #stop()} by one thread; {@link #hold} from any.
 */
final class KwikBenchServer {
  static final String ALPN = "braid-bench";
  static final int STREAM_WINDOW = 256 * 1024;
  static final int MAX_STREAMS = 16384;
  /**
   * Long: the baseline's connection sits idle while the bench measures Braid's figures between the baseline's own
   * (tens of seconds with the bench's time-based warm-ups), and a 30 s idle timeout closed it there, failing the next
   * measurement with "Connection closed" (seen in a run with kwik's log forwarded). A stalled measurement is bounded
   * by the baseline's own timeout, not by this.
   */
  static final Duration IDLE_TIMEOUT = Duration.ofMinutes(10);
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic.bench");
  private static final long CONNECTION_WINDOW = 16L << 20;
  private static final int THREADS = 64;
  private static final ThreadLocal<byte[]> BUFFER = ThreadLocal.withInitial(() -> new byte[64 * 1024]);

  private ServerConnector connector;
  private ExecutorService threads;
  private String certificateHash;
  private int port;
  /** When set, the server holds every new stream until it opens: a stall made on purpose, for tests. */
  private volatile CountDownLatch gate;

  /** Starts the threads and the connector; {@link #stop()} frees what a failed start left behind. */
  void start() throws Exception {
    InetAddress loopback = InetAddress.getLoopbackAddress();
    // kwik's client matches the dialed host against dNSName entries only, even an IP literal
    ListenerIdentity identity = ListenerIdentity.selfSigned("localhost",
        List.of("localhost", loopback.getHostAddress()), List.of(loopback));
    certificateHash = identity.certificateHash();
    char[] password = ListenerIdentity.randomPassword();
    threads = DaemonThreads.pool("braid-bench-kwik-server-", THREADS);
    startThreads();
    DatagramSocket socket = new DatagramSocket(new InetSocketAddress(loopback, 0));
    ServerConnectionConfig config = ServerConnectionConfig.builder()
        .maxIdleTimeout((int) IDLE_TIMEOUT.toMillis())
        .maxOpenPeerInitiatedBidirectionalStreams(MAX_STREAMS)
        .maxOpenPeerInitiatedUnidirectionalStreams(0)
        .maxBidirectionalStreamBufferSize(STREAM_WINDOW)
        .maxUnidirectionalStreamBufferSize(STREAM_WINDOW)
        .maxConnectionBufferSize(CONNECTION_WINDOW)
        .retryRequired(false)
        .build();
    try {
      connector = ServerConnector.builder()
          .withSocket(socket)
          .withKeyStore(identity.toKeyStore(password), ListenerIdentity.keyStoreAlias(), password)
          .withSupportedVersion(QuicVersion.V1)
          .withConfiguration(config)
          .withLogger(new KwikErrors("server"))
          .build();
    } catch (Exception e) {
      socket.close(); // no kwik thread uses it yet
      throw new IOException("kwik refused to start its server: " + e, e);
    }
    connector.registerApplicationProtocol(ALPN, new ServerSide());
    connector.start();
    port = socket.getLocalPort();
  }

  int port() {
    return port;
  }

  /** Hex SHA-256 of the server's certificate, which the client pins. */
  String certificateHash() {
    return certificateHash;
  }

  /** For tests: while {@code gate} is closed, the server neither reads nor answers new streams; null lets go. */
  void hold(CountDownLatch gate) {
    this.gate = gate;
  }

  /**
   * Starts all server threads and gives each its 64 KiB read buffer now, so that the idle-stream memory figure
   * counts kwik's per-stream state, not the pool growing.
   */
  private void startThreads() throws InterruptedException, TimeoutException {
    CountDownLatch ready = new CountDownLatch(THREADS);
    for (int i = 0; i < THREADS; i++) {
      threads.execute(() -> {
        BUFFER.get();
        ready.countDown();
        try {
          ready.await(10, TimeUnit.SECONDS); // holds this thread so that every task gets a thread of its own
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    }
    if (!ready.await(10, TimeUnit.SECONDS)) {
      throw new TimeoutException("kwik baseline: its server threads did not start within 10 s");
    }
  }

  /** Stops the connector (bounded: kwik's close waits up to 30 s for its connections to drain) and the threads. */
  void stop() throws InterruptedException {
    if (connector != null) {
      ServerConnector c = connector;
      connector = null;
      Thread closer = DaemonThreads.factory("braid-bench-kwik-close-").newThread(c::close); // it closes its socket
      closer.start();
      closer.join(10_000);
      if (closer.isAlive()) {
        LOG.log(System.Logger.Level.WARNING, "kwik's server connector did not close within 10 s; left to finish");
      }
    }
    if (threads != null) {
      threads.shutdownNow();
      threads = null;
    }
  }

  /** kwik's server side: every new stream is handed to the server pool at once (kwik calls back on one thread). */
  private final class ServerSide implements ApplicationProtocolConnectionFactory {
    @Override
    public ApplicationProtocolConnection createConnection(String protocol, tech.kwik.core.QuicConnection quic) {
      return new ApplicationProtocolConnection() {
        @Override
        public void acceptPeerInitiatedStream(QuicStream stream) {
          try {
            threads.execute(() -> serve(stream, gate));
          } catch (RejectedExecutionException e) {
            LOG.log(System.Logger.Level.DEBUG, "kwik baseline: stopping, stream {0} not served", stream.getStreamId());
            stream.abortReading(1);
          }
        }
      };
    }

    @Override
    public int maxConcurrentPeerInitiatedBidirectionalStreams() {
      return MAX_STREAMS;
    }

    @Override
    public int maxConcurrentPeerInitiatedUnidirectionalStreams() {
      return 0;
    }
  }

  /** Echoes a stream whose first byte is 'E', reads any other to its end; then sends FIN. */
  private static void serve(QuicStream stream, CountDownLatch gate) {
    Thread.interrupted(); // kwik wakes readers with interrupt(): never inherit a stale flag
    try {
      if (gate != null && !gate.await(KwikBaseline.OP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        throw new IOException("the test's gate stayed closed");
      }
      InputStream in = stream.getInputStream();
      OutputStream out = stream.getOutputStream();
      byte[] buf = BUFFER.get();
      int n = in.read(buf);
      boolean echo = n > 0 && buf[0] == 'E';
      while (n >= 0) {
        if (echo && n > 0) {
          out.write(buf, 0, n);
          out.flush();
        }
        n = in.read(buf);
      }
      out.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "kwik baseline server stream " + stream.getStreamId() + " ended: " + e);
    } catch (InterruptedException e) {
      LOG.log(System.Logger.Level.DEBUG, "kwik baseline server stream " + stream.getStreamId() + " interrupted (stop)");
    } finally {
      Thread.interrupted();
    }
  }
}
