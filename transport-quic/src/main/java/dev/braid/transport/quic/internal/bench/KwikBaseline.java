package dev.braid.transport.quic.internal.bench;

import dev.braid.spi.BenchBaseline;
import dev.braid.spi.DaemonThreads;
import dev.braid.tls.CertificatePins;
import dev.braid.transport.quic.internal.Kwik0108;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import tech.kwik.core.QuicClientConnection;
import tech.kwik.core.QuicStream;

/**
 * The baseline for {@code quic} in {@code braid bench}: kwik 0.10.8 used directly, without Braid. One kwik server
 * ({@link KwikBenchServer}) on a loopback UDP socket and one {@link QuicClientConnection} to it; every measurement
 * uses bidirectional QUIC streams on that one connection, where Braid uses its streams. The server echoes streams
 * whose first byte is {@code 'E'} and reads every other stream to its end; at the end of a stream (the client's
 * FIN) it sends its own FIN, so "write N bytes, FIN, wait for the peer's FIN" measures the same thing as Braid's
 * one-stream figure. The client trusts exactly the server's certificate ({@link CertificatePins}); its concurrent
 * writers run on a cached pool.
 *
 * <p>Found by {@link java.util.ServiceLoader} as a {@link BenchBaseline} (module-info and
 * {@code META-INF/services}), so the bench needs no compile-time dependency on kwik. Of Braid's kwik workarounds
 * ({@link Kwik0108}) it applies only the one that makes a {@code -ea} JVM (the tests) behave like a production one:
 * kwik used directly is what is measured.
 *
 * <p>Every measurement is bounded; when kwik stops making progress (its bulk-send stall: writers blocked in
 * {@code SendBuffer.write} while kwik's sender idles, {@link Kwik0108} section 4) the measurement fails after its
 * bound ({@value #OP_TIMEOUT_SECONDS} s by default) instead of hanging. A failed measurement leaves its connection
 * unusable (its streams are stuck, or kwik closed it), so the baseline then closes it and dials a new one to the same
 * server: the next measurement, or a retry of the failed one, starts on a clean connection.
 *
 * <p><b>Thread safety.</b> Not thread-safe: {@code Bench} calls one method at a time.
 */
public final class KwikBaseline implements BenchBaseline {
  static final long OP_TIMEOUT_SECONDS = 120;
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic.bench");

  static {
    Kwik0108.disableLossDelayAssertion(); // as the transport does, before kwik loads its loss detector
  }

  private final Duration opTimeout;
  private KwikBenchServer server;
  private ExecutorService clientThreads;
  private volatile QuicClientConnection connection;
  private int replacedConnections;

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
      server = new KwikBenchServer();
      server.start();
      clientThreads = DaemonThreads.pool("braid-bench-kwik-client-", 0);
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

  @Override
  public void stop() throws Exception {
    RuntimeException failure = null;
    QuicClientConnection c = connection;
    connection = null;
    if (c != null) {
      try {
        c.closeAndWait(Duration.ofSeconds(2));
      } catch (RuntimeException e) {
        failure = e;
      }
    }
    if (server != null) {
      server.stop();
      server = null;
    }
    if (clientThreads != null) {
      clientThreads.shutdownNow();
      clientThreads = null;
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** A new client connection to this baseline's server, trusting exactly its certificate. */
  private QuicClientConnection dial() throws Exception {
    QuicClientConnection c = QuicClientConnection.newBuilder()
        .host(InetAddress.getLoopbackAddress().getHostAddress())
        .port(server.port())
        .applicationProtocol(KwikBenchServer.ALPN)
        .connectTimeout(Duration.ofSeconds(10))
        .maxIdleTimeout(KwikBenchServer.IDLE_TIMEOUT)
        .defaultStreamReceiveBufferSize((long) KwikBenchServer.STREAM_WINDOW)
        .maxOpenPeerInitiatedBidirectionalStreams(0)
        .maxOpenPeerInitiatedUnidirectionalStreams(0)
        .logger(new KwikErrors("client"))
        .customTrustManager(CertificatePins.trustOnly(server.certificateHash()))
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
  void holdServerStreams(CountDownLatch gate) {
    server.hold(gate);
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
        + " s (kwik 0.10.8's bulk-send stall? see Kwik0108 section 4)");
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
      Exception cause = e.getCause() instanceof Exception x ? x : e;
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
        Exception cause = e.getCause() instanceof Exception x ? x : e;
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
}
