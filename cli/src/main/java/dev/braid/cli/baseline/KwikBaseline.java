package dev.braid.cli.baseline;

import dev.braid.spi.BenchBaseline;
import dev.braid.spi.DaemonThreads;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import javax.net.ssl.X509TrustManager;
import tech.kwik.core.QuicClientConnection;
import tech.kwik.core.QuicConnection.QuicVersion;
import tech.kwik.core.QuicStream;
import tech.kwik.core.log.NullLogger;
import tech.kwik.core.server.ApplicationProtocolConnection;
import tech.kwik.core.server.ApplicationProtocolConnectionFactory;
import tech.kwik.core.server.ServerConnectionConfig;
import tech.kwik.core.server.ServerConnector;

/**
 * The baseline for {@code quic}: kwik 0.10.8 used directly, without Braid. One kwik
 * {@link ServerConnector} on a loopback UDP socket and one {@link QuicClientConnection} to it; every
 * measurement uses bidirectional QUIC streams on that one connection, where Braid uses its streams. The
 * server echoes streams whose first byte is {@code 'E'} and reads every other stream to its end; at the
 * end of a stream (the client's FIN) it sends its own FIN, so "write N bytes, FIN, wait for the peer's
 * FIN" measures the same thing as Braid's one-stream figure.
 *
 * <p>Windows match Braid's QUIC defaults: 256 KiB per stream, 16 MiB per connection, up to 16384
 * concurrent client streams. The server certificate is a fresh self-signed EC P-256 key made with the
 * JDK's {@code keytool} in a temporary directory at {@link #start()} (deleted at {@link #stop()}); the
 * client trusts exactly that certificate. kwik's streams are blocking: the server serves each stream
 * on a pool of 64 threads, started with their 64 KiB read buffers at {@link #start()} (streams beyond 64
 * wait in the pool's queue, so an idle stream costs kwik's state on both ends and a queued task, no read
 * buffer); the client's concurrent writers run on a cached pool.
 * Every measurement is bounded; when kwik stops making progress (its bulk-send stall, brief §7: writers
 * blocked in {@code SendBuffer.write} while kwik's sender idles) the measurement fails after its bound
 * ({@value #OP_TIMEOUT_SECONDS} s by default) instead of hanging. A failed measurement leaves its connection
 * unusable (its streams are stuck, or kwik closed it), so the baseline then closes it and dials a new one to
 * the same server: the next measurement, or a retry of the failed one, starts on a clean connection.
 *
 * <p><b>Thread safety.</b> Not thread-safe: {@code Bench} calls one method at a time.
 */
public final class KwikBaseline implements BenchBaseline {
  private static final System.Logger LOG = System.getLogger("dev.braid.cli.baseline");
  private static final String ALPN = "braid-bench";
  private static final String ALIAS = "bench";
  private static final int STREAM_WINDOW = 256 * 1024;
  private static final long CONNECTION_WINDOW = 16L << 20;
  private static final int MAX_STREAMS = 16384;
  private static final int SERVER_THREADS = 64;
  private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(30);
  static final long OP_TIMEOUT_SECONDS = 120;
  static {
    // As the QUIC transport does (see its QuicTransport): kwik 0.10.8 asserts a loss delay above 0 ms, which
    // loopback's 0 ms RTTs break; under -ea (the test runs) that aborts connections at random. Turned off for that
    // class only, before kwik loads it, so that a -ea run measures what a production run does.
    ClassLoader kwik = QuicClientConnection.class.getClassLoader();
    if (kwik != null) {
      kwik.setClassAssertionStatus("tech.kwik.core.recovery.LossDetector", false);
    }
  }

  private static final ThreadLocal<byte[]> SERVER_BUFFER = ThreadLocal.withInitial(() -> new byte[64 * 1024]);

  private Path dir;
  private ServerConnector connector;
  private ExecutorService serverThreads;
  private ExecutorService clientThreads;
  private volatile QuicClientConnection connection;
  private X509Certificate certificate;
  private int serverPort;
  private final Duration opTimeout;
  private int replacedConnections;
  /** When set, the server holds every new stream until it opens: a stall made on purpose, for tests. */
  private volatile java.util.concurrent.CountDownLatch serverGate;

  /** Creates the baseline; {@link #start()} does the work. */
  public KwikBaseline() {
    this(Duration.ofSeconds(OP_TIMEOUT_SECONDS));
  }

  /** A baseline whose measurements fail after {@code opTimeout} without a result. */
  KwikBaseline(Duration opTimeout) {
    if (opTimeout.isNegative() || opTimeout.isZero()) {
      throw new IllegalArgumentException("opTimeout must be positive: " + opTimeout);
    }
    this.opTimeout = opTimeout;
  }

  @Override
  public String transportId() {
    return "quic";
  }

  @Override
  public String name() {
    return "kwik 0.10.8 direct";
  }

  @Override
  public void start() throws Exception {
    try {
      dir = Files.createTempDirectory("braid-bench-kwik");
      char[] password = HexFormat.of().formatHex(new SecureRandom().generateSeed(12)).toCharArray();
      Path store = dir.resolve("server.p12");
      InetAddress loopback = InetAddress.getLoopbackAddress();
      generateKeyStore(store, password, loopback.getHostAddress());
      KeyStore ks = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(store)) {
        ks.load(in, password);
      }
      certificate = (X509Certificate) ks.getCertificate(ALIAS);
      serverThreads = DaemonThreads.pool("braid-bench-kwik-server-", SERVER_THREADS);
      clientThreads = DaemonThreads.pool("braid-bench-kwik-client-", 0);
      startServerThreads();
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
            .withKeyStore(ks, ALIAS, password)
            .withSupportedVersion(QuicVersion.V1)
            .withConfiguration(config)
            .withLogger(new NullLogger())
            .build();
      } catch (Exception e) {
        socket.close(); // no kwik thread uses it yet
        throw new IOException("kwik refused to start its server: " + e, e);
      }
      connector.registerApplicationProtocol(ALPN, new ServerSide());
      connector.start();
      serverPort = socket.getLocalPort();
      connection = dial();
    } catch (Exception | Error e) {
      try {
        stop();
      } catch (Exception e2) {
        e.addSuppressed(e2);
      }
      throw e;
    }
  }

  /** A new client connection to this baseline's server, trusting exactly its certificate. */
  private QuicClientConnection dial() throws Exception {
    QuicClientConnection c = QuicClientConnection.newBuilder()
        .host(InetAddress.getLoopbackAddress().getHostAddress())
        .port(serverPort)
        .applicationProtocol(ALPN)
        .connectTimeout(Duration.ofSeconds(10))
        .maxIdleTimeout(IDLE_TIMEOUT)
        .defaultStreamReceiveBufferSize((long) STREAM_WINDOW)
        .maxOpenPeerInitiatedBidirectionalStreams(0)
        .maxOpenPeerInitiatedUnidirectionalStreams(0)
        .logger(new NullLogger())
        .customTrustManager(new PinnedCertificate(certificate))
        .build();
    c.connect();
    return c;
  }

  /**
   * After a failed measurement: closes the connection it used (bounded; its streams may be stuck) and dials a
   * new one (up to 3 tries). If no dial succeeds, the baseline has no connection and every later measurement
   * fails at once.
   */
  private void replaceConnection(Exception cause) {
    QuicClientConnection old = connection;
    connection = null;
    if (old != null) {
      try {
        old.closeAndWait(Duration.ofSeconds(2));
      } catch (RuntimeException e) {
        cause.addSuppressed(e);
      }
    }
    for (int attempt = 1; attempt <= 3 && connection == null; attempt++) { // a handshake can fail under load
      try {
        connection = dial();
        replacedConnections++;
        LOG.log(System.Logger.Level.INFO, "kwik baseline: dialed a new connection after a failed measurement: "
            + cause);
      } catch (Exception e) {
        cause.addSuppressed(e);
      }
    }
  }

  /** How many times a failed measurement made the baseline dial a new connection. */
  int replacedConnections() {
    return replacedConnections;
  }

  /** For tests: while {@code gate} is closed, the server neither reads nor answers new streams. */
  void holdServerStreams(java.util.concurrent.CountDownLatch gate) {
    serverGate = gate;
  }

  /**
   * Starts all server threads and gives each its 64 KiB read buffer now, so that the idle-stream memory
   * figure counts kwik's per-stream state, not the pool growing.
   */
  private void startServerThreads() throws InterruptedException, TimeoutException {
    java.util.concurrent.CountDownLatch ready = new java.util.concurrent.CountDownLatch(SERVER_THREADS);
    for (int i = 0; i < SERVER_THREADS; i++) {
      serverThreads.execute(() -> {
        SERVER_BUFFER.get();
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

  /**
   * Runs the JDK's keytool: a self-signed EC P-256 key for {@code host}, valid for two days. kwik's TLS client
   * (agent15) matches the dialed host against dNSName entries only, even for an IP address, hence
   * {@code dns:127.0.0.1}.
   */
  private static void generateKeyStore(Path store, char[] password, String host)
      throws IOException, InterruptedException {
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    ProcessBuilder pb = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", ALIAS, "-keyalg", "EC",
        "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA", "-storetype", "PKCS12", "-keystore", store.toString(),
        "-storepass:env", "BRAID_BENCH_STOREPASS", "-keypass:env", "BRAID_BENCH_STOREPASS",
        "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,dns:" + host + ",ip:" + host, "-validity", "2", "-noprompt")
        .redirectErrorStream(true);
    pb.environment().put("BRAID_BENCH_STOREPASS", new String(password));
    Process p = pb.start();
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    try (InputStream in = p.getInputStream()) {
      in.transferTo(output); // keytool ends its output when it exits
    }
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(keytool + " did not finish within 60 s");
    }
    if (p.exitValue() != 0 || !Files.isRegularFile(store)) {
      throw new IOException(keytool + " failed (exit " + p.exitValue() + "): "
          + output.toString(StandardCharsets.UTF_8).trim());
    }
  }

  @Override
  public void stop() throws Exception {
    Exception failure = null;
    if (connection != null) {
      try {
        connection.closeAndWait(Duration.ofSeconds(2));
      } catch (RuntimeException e) {
        failure = e;
      }
      connection = null;
    }
    if (connector != null) {
      // close() waits for the server's connections to drain (up to 30 s): bounded here; it closes its own socket.
      ServerConnector c = connector;
      connector = null;
      Thread closer = new Thread(c::close, "braid-bench-kwik-close");
      closer.setDaemon(true);
      closer.start();
      closer.join(10_000);
      if (closer.isAlive()) {
        LOG.log(System.Logger.Level.WARNING, "kwik's server connector did not close within 10 s; left to finish");
      }
    }
    if (serverThreads != null) {
      serverThreads.shutdownNow();
      serverThreads = null;
    }
    if (clientThreads != null) {
      clientThreads.shutdownNow();
      clientThreads = null;
    }
    if (dir != null) {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path f : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
          Files.deleteIfExists(f);
        }
      } catch (IOException e) {
        failure = failure == null ? e : failure;
      }
      dir = null;
    }
    if (failure != null) {
      throw failure;
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
            serverThreads.execute(() -> serve(stream, serverGate));
          } catch (java.util.concurrent.RejectedExecutionException e) {
            stream.abortReading(1); // stopping
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
  private static void serve(QuicStream stream, java.util.concurrent.CountDownLatch gate) {
    Thread.interrupted(); // kwik wakes readers with interrupt(): never inherit a stale flag
    try {
      if (gate != null && !gate.await(OP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        throw new IOException("the test's gate stayed closed");
      }
      InputStream in = stream.getInputStream();
      OutputStream out = stream.getOutputStream();
      byte[] buf = SERVER_BUFFER.get();
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

  /** The client connection, or a clear error when the last attempt to replace it failed. */
  private QuicClientConnection connection() throws IOException {
    QuicClientConnection c = connection;
    if (c == null) {
      throw new IOException("kwik baseline: no connection (not started, stopped, or the last redial failed)");
    }
    return c;
  }

  private TimeoutException stalled(String what) {
    return new TimeoutException("kwik baseline: " + what + " did not finish within " + opTimeout.toSeconds()
        + " s (kwik 0.10.8's bulk-send stall? brief §7)");
  }

  /**
   * Runs {@code work} on a client thread, bounded by the baseline's timeout. On any failure the connection is
   * replaced before the failure is thrown.
   */
  private <T> T bounded(String what, Callable<T> work) throws Exception {
    QuicClientConnection c = connection();
    Future<T> f = clientThreads.submit(() -> {
      Thread.interrupted();
      return work.call();
    });
    try {
      return f.get(opTimeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      TimeoutException t = stalled(what);
      replaceConnection(t);
      throw t;
    } catch (ExecutionException e) {
      Exception cause = e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
      if (connection == c) {
        replaceConnection(cause);
      }
      throw cause;
    }
  }

  private static void writeAll(OutputStream out, byte[] chunk, long bytes) throws IOException {
    for (long left = bytes; left > 0; left -= chunk.length) {
      out.write(chunk, 0, (int) Math.min(chunk.length, left));
    }
  }

  /** Reads to the end of the stream (the server's FIN). */
  private static void awaitEnd(InputStream in) throws IOException {
    byte[] sink = new byte[1024];
    while (in.read(sink) >= 0) {
      // the sink sends nothing but its FIN; an echo stream's bytes are already counted
    }
  }

  /** Sends FIN and reads the server's FIN, so that both ends forget the stream and kwik returns its credit. */
  private static void finish(QuicStream s) throws IOException {
    s.getOutputStream().close();
    awaitEnd(s.getInputStream());
  }

  @Override
  public double oneStreamThroughput(long bytes) throws Exception {
    return bounded("one stream of " + bytes + " bytes", () -> {
      QuicStream s = connection().createStream(true);
      byte[] chunk = new byte[256 * 1024];
      Arrays.fill(chunk, (byte) 'S');
      long t0 = System.nanoTime();
      OutputStream out = s.getOutputStream();
      writeAll(out, chunk, bytes);
      out.close();
      awaitEnd(s.getInputStream());
      return bytes / 1e6 / ((System.nanoTime() - t0) / 1e9);
    });
  }

  @Override
  public double manyStreamsThroughput(int n, long perStream) throws Exception {
    List<QuicStream> streams = bounded("opening " + n + " streams", () -> {
      List<QuicStream> l = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        l.add(connection().createStream(true));
      }
      return l;
    });
    byte[] chunk = new byte[64 * 1024];
    Arrays.fill(chunk, (byte) 'S');
    long t0 = System.nanoTime();
    List<Future<?>> done = new ArrayList<>();
    for (QuicStream s : streams) {
      done.add(clientThreads.submit(() -> {
        Thread.interrupted();
        OutputStream out = s.getOutputStream();
        writeAll(out, chunk, perStream);
        out.close();
        awaitEnd(s.getInputStream());
        return null;
      }));
    }
    long deadline = System.nanoTime() + opTimeout.toNanos();
    for (Future<?> f : done) {
      try {
        f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        done.forEach(d -> d.cancel(true));
        TimeoutException t = stalled(n + " streams of " + perStream + " bytes");
        replaceConnection(t);
        throw t;
      } catch (ExecutionException e) {
        done.forEach(d -> d.cancel(true));
        Exception cause = e.getCause() instanceof Exception ? (Exception) e.getCause() : e;
        replaceConnection(cause);
        throw cause;
      }
    }
    return n * perStream / 1e6 / ((System.nanoTime() - t0) / 1e9);
  }

  @Override
  public double openFirstByteMicros(int samples) throws Exception {
    return bounded(samples + " stream opens", () -> {
      double[] us = new double[samples];
      for (int i = 0; i < samples; i++) {
        long t0 = System.nanoTime();
        QuicStream s = connection().createStream(true);
        OutputStream out = s.getOutputStream();
        out.write('E');
        out.flush();
        if (s.getInputStream().read() != 'E') {
          throw new IOException("kwik baseline: the echo of the first byte did not come back");
        }
        us[i] = (System.nanoTime() - t0) / 1e3;
        finish(s);
      }
      return BenchBaseline.median(us);
    });
  }

  @Override
  public double roundTripMicros(int samples) throws Exception {
    return bounded(samples + " round trips", () -> {
      QuicStream s = connection().createStream(true);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      byte[] msg = new byte[64];
      Arrays.fill(msg, (byte) 'E');
      byte[] back = new byte[64];
      double[] us = new double[samples];
      for (int i = 0; i < samples; i++) {
        long t0 = System.nanoTime();
        out.write(msg);
        out.flush();
        if (in.readNBytes(back, 0, 64) < 64) {
          throw new IOException("kwik baseline: echo ended early");
        }
        us[i] = (System.nanoTime() - t0) / 1e3;
      }
      finish(s);
      return BenchBaseline.median(us);
    });
  }

  @Override
  public double memoryPerIdleStreamBytes(int n) throws Exception {
    return bounded(n + " idle streams", () -> {
      long before = BenchBaseline.settledHeap();
      List<QuicStream> streams = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        QuicStream s = connection().createStream(true);
        s.getOutputStream().write('S'); // make it exist on both ends
        s.getOutputStream().flush();
        streams.add(s);
      }
      Thread.sleep(200);
      long after = BenchBaseline.usedHeap();
      for (QuicStream s : streams) {
        s.getOutputStream().close();
      }
      for (QuicStream s : streams) {
        awaitEnd(s.getInputStream());
      }
      return Math.max(0, after - before) / (double) n;
    });
  }

  /**
   * Trusts exactly one certificate, the one this baseline generated, compared by SHA-256.
   *
   * <p><b>Thread safety.</b> Immutable.
   */
  private static final class PinnedCertificate implements X509TrustManager {
    private final byte[] expected;

    PinnedCertificate(X509Certificate cert) throws Exception {
      this.expected = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("the server presented no certificate");
      }
      byte[] actual;
      try {
        actual = MessageDigest.getInstance("SHA-256").digest(chain[0].getEncoded());
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new CertificateException(e);
      }
      if (!MessageDigest.isEqual(expected, actual)) {
        throw new CertificateException("not the baseline's own certificate: SHA-256 " + HexFormat.of().formatHex(actual));
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      throw new CertificateException("no client certificates in this baseline");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
