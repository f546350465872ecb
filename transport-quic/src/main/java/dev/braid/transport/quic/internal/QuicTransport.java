package dev.braid.transport.quic.internal;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.ConnectionFailedException;
import dev.braid.Listener;
import dev.braid.OptionKey;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.spi.BraidFuture;
import dev.braid.spi.DaemonThreads;
import dev.braid.tls.CertificatePins;
import dev.braid.transport.quic.QuicOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import tech.kwik.core.QuicClientConnection;

/**
 * The QUIC transport on kwik. Owns three small pools: {@code braid-quic-io-N} (one per core, runs the
 * non-blocking stream pumps), {@code braid-quic-blocking-N} (kwik's blocking calls: handshakes,
 * {@code createStream}, closes; threads idle out after 2 s) and one {@code braid-quic-timer-1}. kwik itself
 * runs a sender, a receiver and a callback thread per connection, and a receive loop per listener.
 *
 * <p>Transport-specific settings: {@link QuicOptions} ({@code quic.alpn}, {@code quic.connectionWindow}), read once
 * here, so that a bad value fails {@code create}; a listener's keystore is the shared {@code tls.keyStore},
 * {@code tls.keyStorePassword}, {@code tls.keyAlias} ({@link dev.braid.tls.ListenerIdentity}; default: a fresh
 * self-signed EC P-256 certificate per listener).
 *
 * <p><b>Thread safety.</b> Thread-safe.
 */
public final class QuicTransport implements Transport {
  /** The transport id and URI scheme. */
  public static final String ID = "quic";
  /** What QUIC can do that a byte pipe cannot. */
  public static final Set<Capability> CAPABILITIES = Set.copyOf(EnumSet.of(Capability.STOP_SENDING, Capability.RESET_CODES));
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic");
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);
  /** Properties this transport read under other names before issue 14, and what it reads now. */
  private static final Map<String, String> RENAMED = Map.of("alpn", QuicOptions.ALPN.name(),
      "connectionWindow", QuicOptions.CONNECTION_WINDOW.name(), "keyStore", TransportOptions.TLS_KEY_STORE.name(),
      "keyStorePassword", TransportOptions.TLS_KEY_STORE_PASSWORD.name(), "keyAlias", TransportOptions.TLS_KEY_ALIAS.name());

  static {
    Kwik0108.disableLossDelayAssertion(); // before kwik loads its loss detector
  }

  private final TransportOptions options;
  private final String alpn;
  private final long connectionWindow;
  private final ThreadPoolExecutor io;
  private final ThreadPoolExecutor blocking;
  private final ScheduledThreadPoolExecutor scheduler;
  private final Set<QuicConnection> connections = ConcurrentHashMap.newKeySet();
  private final Set<QuicListener> listeners = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /**
   * A transport with {@code options}.
   *
   * @throws IllegalArgumentException naming the option if a {@link QuicOptions} value cannot be parsed
   */
  public QuicTransport(TransportOptions options) {
    this.options = options;
    this.alpn = options.get(QuicOptions.ALPN);
    long window = options.get(QuicOptions.CONNECTION_WINDOW);
    this.connectionWindow = window > 0 ? window : Math.max(16L * 1024 * 1024, options.receiveWindow() * 4L);
    RENAMED.forEach((old, now) -> {
      if (options.get(OptionKey.optionalString(old)).isPresent() && options.get(OptionKey.optionalString(now)).isEmpty()) {
        LOG.log(System.Logger.Level.WARNING, "the QUIC transport ignores property {0}: it reads {1} instead", old, now);
      }
    });
    int n = Math.max(2, Runtime.getRuntime().availableProcessors());
    io = new ThreadPoolExecutor(n, n, 2, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
        DaemonThreads.factory("braid-quic-io-"));
    io.allowCoreThreadTimeOut(true);
    blocking = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 2, TimeUnit.SECONDS, new SynchronousQueue<>(),
        DaemonThreads.factory("braid-quic-blocking-")) {
      @Override
      protected void beforeExecute(Thread t, Runnable r) {
        Kwik0108.clearInterrupt(); // kwik wakes threads with interrupt(); never let a flag leak into the next task
      }

      @Override
      protected void afterExecute(Runnable r, Throwable t) {
        Kwik0108.clearInterrupt();
        if (t != null) {
          LOG.log(System.Logger.Level.WARNING, "a blocking QUIC task failed", t);
        }
      }
    };
    scheduler = new ScheduledThreadPoolExecutor(1, DaemonThreads.factory("braid-quic-timer-"));
    scheduler.setRemoveOnCancelPolicy(true);
    scheduler.setKeepAliveTime(2, TimeUnit.SECONDS);
    scheduler.allowCoreThreadTimeOut(true);
  }

  ExecutorService io() {
    return io;
  }

  ExecutorService blocking() {
    return blocking;
  }

  ScheduledExecutorService scheduler() {
    return scheduler;
  }

  TransportOptions options() {
    return options;
  }

  String alpn() {
    return alpn;
  }

  /** Bytes the peer may send ahead on all streams of a connection together ({@link QuicOptions#CONNECTION_WINDOW}). */
  long connectionWindow() {
    return connectionWindow;
  }

  void register(QuicConnection c) {
    connections.add(c);
    c.onTerminatedRun(() -> connections.remove(c));
    if (closed) {
      c.close();
      return;
    }
    c.startKeepAlive();
  }

  /**
   * The QUIC stream credit (initial_max_streams_bidi, then MAX_STREAMS as streams end) an end grants its peer: more
   * than {@code maxStreams}, so that the peer's opens beyond Braid's own limit (which counts both sides' streams)
   * reach this end and are refused on the wire with {@link dev.braid.StreamResetException#REFUSED}, which the opener
   * reports as a remote {@link dev.braid.StreamRefusedException}. Granting exactly {@code maxStreams} would leave the
   * opener blocked in kwik's {@code createStream}, waiting for credit that never comes, with no answer from the peer.
   * A refused stream gives its credit back as soon as both ends have reset it, so the slack only has to cover the
   * refusals in flight: {@code maxStreams} more, at least 16 and at most 1024. It also bounds what a peer that ignores
   * refusals can hold: kwik closes the connection with STREAM_LIMIT_ERROR beyond it.
   */
  static int peerStreamCredit(TransportOptions options) {
    long max = options.maxStreams();
    long credit = max + Math.max(16, Math.min(max, 1024));
    return (int) Math.min(Integer.MAX_VALUE / 8, credit);
  }

  void unregister(QuicListener l) {
    listeners.remove(l);
  }

  @Override
  public String id() {
    return ID;
  }

  @Override
  public Set<Capability> capabilities() {
    return CAPABILITIES;
  }

  /**
   * Dials on the blocking pool (kwik's handshake blocks). The future is a {@link BraidFuture} completed there or by the
   * timer: an application's continuations run on Braid's event threads, never on kwik's or this transport's. It is
   * completed directly rather than relayed ({@link BraidFuture#relay}) so that a caller's cancel or timeout reaches the
   * dial: a connection that arrives after it is closed instead of being left open with no owner.
   */
  @Override
  public CompletableFuture<Connection> dial(URI address) {
    QuicAddress target = QuicAddress.parse(address, false);
    if (closed) {
      return BraidFuture.failed(new ConnectionFailedException("the QUIC transport is closed", null));
    }
    BraidFuture<Connection> result = new BraidFuture<>();
    long bound = options.connectTimeout().toMillis() + 2000;
    try {
      ScheduledFuture<?> timer = scheduler.schedule(() -> result.completeExceptionally(new ConnectionFailedException(
          "QUIC handshake with " + address + " did not finish within " + bound + " ms", null)), bound, TimeUnit.MILLISECONDS);
      blocking.execute(() -> {
        connect(target, address, result);
        timer.cancel(false);
      });
    } catch (RejectedExecutionException closing) {
      result.completeExceptionally(new ConnectionFailedException("the QUIC transport is closed", closing));
    }
    return result;
  }

  private void connect(QuicAddress target, URI address, CompletableFuture<Connection> result) {
    QuicFrameTap tap = QuicFrameTap.forClient();
    QuicClientConnection kwik;
    try {
      QuicClientConnection.Builder b = QuicClientConnection.newBuilder()
          .host(target.host())
          .port(target.port())
          .applicationProtocol(alpn)
          .connectTimeout(options.connectTimeout())
          .maxIdleTimeout(options.idleTimeout())
          .defaultStreamReceiveBufferSize((long) options.receiveWindow())
          .maxOpenPeerInitiatedBidirectionalStreams(peerStreamCredit(options))
          .maxOpenPeerInitiatedUnidirectionalStreams(0)
          .logger(tap);
      if (target.certHash() != null) {
        b.customTrustManager(CertificatePins.trustOnly(target.certHash()));
      }
      kwik = b.build();
      tap.gate(Kwik0108.HelloGate.of(kwik));
    } catch (IOException | RuntimeException e) {
      result.completeExceptionally(new ConnectionFailedException("cannot set up a QUIC connection to " + address + ": " + e, e));
      return;
    }
    URI remote = target.toUri();
    URI local;
    try {
      InetSocketAddress la = kwik.getLocalAddress();
      local = new QuicAddress(la.getAddress().getHostAddress(), la.getPort(), null).toUri();
    } catch (RuntimeException e) {
      local = URI.create("quic://0.0.0.0:0");
    }
    QuicConnection c = new QuicConnection(this, kwik, true, local, remote, CAPABILITIES, options);
    tap.bind(c);
    kwik.setPeerInitiatedStreamCallback(c::onPeerStream);
    kwik.setConnectionListener(c::onDisconnected);
    try {
      kwik.connect();
    } catch (IOException | RuntimeException e) {
      kwik.close();
      result.completeExceptionally(new ConnectionFailedException("QUIC handshake with " + address + " failed: "
          + e + (e.getCause() == null ? "" : " (" + e.getCause() + ")"), e));
      return;
    }
    register(c);
    if (!result.complete(c)) {
      c.close(); // timed out meanwhile
    }
  }

  @Override
  public Listener listen(URI address) throws IOException {
    QuicAddress local = QuicAddress.parse(address, true);
    if (closed) {
      throw new IOException("the QUIC transport is closed");
    }
    QuicListener l = new QuicListener(this, local);
    listeners.add(l);
    return l;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    List<CompletableFuture<Void>> ends = new ArrayList<>();
    for (QuicListener l : listeners) {
      l.close();
    }
    for (QuicConnection c : connections) {
      c.close();
      ends.add(c.kwikEnded());
    }
    long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
    try {
      CompletableFuture.allOf(ends.toArray(new CompletableFuture<?>[0])).get(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.log(System.Logger.Level.DEBUG, "QUIC transport close: not every connection ended in time: {0}", e.toString());
    }
    List<CompletableFuture<Void>> connectors = new ArrayList<>();
    for (QuicListener l : new ArrayList<>(listeners)) {
      connectors.add(l.shutdownConnector());
    }
    try {
      long left = Math.max(100, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
      CompletableFuture.allOf(connectors.toArray(new CompletableFuture<?>[0])).get(left, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.log(System.Logger.Level.DEBUG, "QUIC transport close: a kwik connector did not stop in time: {0}", e.toString());
    }
    scheduler.shutdownNow();
    io.shutdown();
    blocking.shutdown();
    try {
      io.awaitTermination(2, TimeUnit.SECONDS);
      blocking.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  boolean isClosed() {
    return closed;
  }
}
