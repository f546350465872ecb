package dev.braid.transport.webrtc.internal;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.ConnectionFailedException;
import dev.braid.Listener;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.spi.BraidFuture;
import dev.braid.spi.DaemonThreads;
import dev.braid.transport.webrtc.WebRtcOptions;
import dev.onvoid.webrtc.PeerConnectionFactory;
import dev.onvoid.webrtc.media.audio.HeadlessAudioDeviceModule;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The WebRTC transport: dials and listens on {@code webrtc://HOST:PORT} addresses, where HOST:PORT is
 * the listener's HTTP signaling endpoint. Every connection uses the process's shared
 * {@link PeerConnectionFactory} (see {@code SharedFactory}: created with a
 * {@link HeadlessAudioDeviceModule}, since webrtc-java's no-argument factory aborts the JVM on machines
 * without audio, and disposed when the last transport closes).
 *
 * <p><b>Properties</b> ({@link TransportOptions#property}):
 * <ul>
 * <li>{@code bearerToken}: the listener requires {@code Authorization: Bearer <token>}; the dialer sends it.</li>
 * <li>{@code signalingPath}: the endpoint path (default {@code /braid}).</li>
 * <li>{@code maxSdpBytes}: largest accepted offer (default 65536; larger gets 413).</li>
 * <li>{@code corsAllowOrigin}: answer CORS preflights with this origin (default: no CORS headers).</li>
 * <li>{@code webrtc.maxReceiveBuffer}: unread bytes allowed per stream before it is reset (default
 *     16 MiB, {@link WebRtcOptions#MAX_RECEIVE_BUFFER}; data channels have no per-stream flow control).</li>
 * </ul>
 *
 * <p><b>Options.</b> {@code receiveWindow} is announced to Braid peers ({@code a=x-braid-window}); {@code connectTimeout}
 * bounds dialing and handshakes; {@code keepAliveInterval} and {@code idleTimeout} drive the keep-alive on the control
 * channel with Braid peers, and the idle timeout ({@link dev.braid.ConnectionTimedOutException}) of every connection
 * (see {@link WebRtcConnection}).
 *
 * <p><b>Threads.</b> One signaling thread ({@code braid-webrtc-signaling-}) for every call into a peer
 * connection, one scheduler ({@code braid-webrtc-poll-}) that polls buffered amounts and runs timers, a
 * pool ({@code braid-webrtc-io-}) for event handling and blocking signaling requests, one Netty event
 * loop ({@code braid-webrtc-http-}) once something listens, plus libwebrtc's own native threads. All of
 * them end in {@link #close()}, which releases the shared factory after every peer connection is
 * closed (the last release disposes it). webrtc-java 0.14.0 itself leaves one idle native
 * {@code rtc-low-prio} thread per disposed factory and one {@code AudioDeviceBuff} thread per process.
 *
 * <p><b>Thread safety.</b> This class is thread-safe.
 */
public final class WebRtcTransport implements Transport {
  private static final System.Logger LOG = System.getLogger(WebRtcTransport.class.getName());
  private static final AtomicInteger INSTANCES = new AtomicInteger();

  /** The transport's id and URI scheme. */
  public static final String ID = "webrtc";
  /** Default for the {@code webrtc.maxReceiveBuffer} property: unread bytes per stream. */
  public static final int DEFAULT_MAX_RECEIVE_BUFFER = WebRtcOptions.MAX_RECEIVE_BUFFER.fallback();

  private final TransportOptions options;
  private final Set<Capability> capabilities;
  private final int maxReceiveBuffer;
  private final ExecutorService signaling;
  private final ScheduledExecutorService scheduler;
  private final ThreadPoolExecutor ioPool;
  private final BufferedAmountPoller poller;
  private final PeerConnectionFactory factory;
  private final Set<WebRtcConnection> connections = ConcurrentHashMap.newKeySet();
  private final Object lock = new Object();
  private final int instance = INSTANCES.incrementAndGet();

  // guarded by lock
  private final List<WebRtcListener> listeners = new ArrayList<>();
  private EventLoopGroup httpGroup;
  private boolean closed;

  /**
   * Creates the transport's executors and acquires the shared peer connection factory.
   *
   * @param options the options in force
   * @param capabilities what the transport can do (the provider's unmodifiable set)
   * @throws IOException when the peer connection factory cannot be created
   */
  public WebRtcTransport(TransportOptions options, Set<Capability> capabilities) throws IOException {
    this.options = options;
    this.capabilities = capabilities;
    this.maxReceiveBuffer = options.get(WebRtcOptions.MAX_RECEIVE_BUFFER);
    options.get(WebRtcOptions.MAX_SDP_BYTES); // every setting is checked when the transport is created
    options.get(WebRtcOptions.SIGNALING_PATH);
    String p = "braid-webrtc-";
    this.signaling = Executors.newSingleThreadExecutor(DaemonThreads.factory(p + "signaling-" + instance + "-"));
    ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, DaemonThreads.factory(p + "poll-" + instance + "-"));
    s.setRemoveOnCancelPolicy(true);
    s.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.scheduler = s;
    this.ioPool = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 2, TimeUnit.SECONDS, new SynchronousQueue<>(),
        DaemonThreads.factory(p + "io-" + instance + "-"));
    this.poller = new BufferedAmountPoller(scheduler);
    PeerConnectionFactory f = null;
    try {
      f = signaling.submit(SharedFactory::acquire).get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      shutdownExecutors();
      throw new IOException("webrtc: cannot create the peer connection factory: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      shutdownExecutors();
      throw new InterruptedIOException("interrupted while creating the peer connection factory");
    }
    this.factory = f;
  }

  // ---------------------------------------------------------------- for connections

  TransportOptions options() {
    return options;
  }

  PeerConnectionFactory factory() {
    return factory;
  }

  ExecutorService ioPool() {
    return ioPool;
  }

  ScheduledExecutorService scheduler() {
    return scheduler;
  }

  BufferedAmountPoller poller() {
    return poller;
  }

  int maxReceiveBuffer() {
    return maxReceiveBuffer;
  }

  /** Runs {@code task} on the signaling executor; if it is shut down, fails {@code onReject} (may be null). */
  void onSignaling(Runnable task, CompletableFuture<?> onReject) {
    try {
      signaling.execute(() -> {
        try {
          task.run();
        } catch (RuntimeException | Error e) {
          if (e instanceof VirtualMachineError vme) {
            throw vme;
          }
          LOG.log(System.Logger.Level.WARNING, "webrtc: a signaling task failed", e);
          if (onReject != null) {
            onReject.completeExceptionally(e);
          }
        }
      });
    } catch (RejectedExecutionException e) {
      if (onReject != null) {
        onReject.completeExceptionally(new ConnectionFailedException("webrtc: the transport is closed", e));
      } else {
        LOG.log(System.Logger.Level.DEBUG, "webrtc: signaling task dropped; the transport is closed");
      }
    }
  }

  /**
   * A future that fails with {@link TimeoutException} after {@code millis}, on this transport's own
   * scheduler (not the JDK's shared delay thread, which would outlive the transport).
   */
  <T> CompletableFuture<T> timeout(long millis) {
    CompletableFuture<T> f = new CompletableFuture<>();
    try {
      ScheduledFuture<?> task = scheduler.schedule(
          () -> f.completeExceptionally(new TimeoutException("timed out after " + millis + " ms")), millis,
          TimeUnit.MILLISECONDS);
      f.whenComplete((v, e) -> task.cancel(false));
    } catch (RejectedExecutionException e) {
      f.completeExceptionally(new ConnectionFailedException("webrtc: the transport is closed", e));
    }
    return f;
  }

  void register(WebRtcConnection c) {
    connections.add(c);
  }

  void connectionEnded(WebRtcConnection c) {
    connections.remove(c);
  }

  /**
   * How many connections this transport holds now: dialed, accepted, waiting for accept or in their handshake. A
   * connection leaves this count once its native peer connection is closed and disposed (for tests).
   */
  int connectionCount() {
    return connections.size();
  }

  // ---------------------------------------------------------------- Transport

  @Override
  public String id() {
    return ID;
  }

  @Override
  public Set<Capability> capabilities() {
    return capabilities;
  }

  @Override
  public CompletableFuture<Connection> dial(URI address) {
    InetSocketAddress target = WebRtcAddress.parse(address);
    synchronized (lock) {
      if (closed) {
        return BraidFuture.failed(new ConnectionFailedException("webrtc: the transport is closed", null));
      }
    }
    URI endpoint;
    URI local;
    try {
      endpoint = new URI("http", null, address.getHost(), target.getPort(), path(address), null, null);
      local = WebRtcAddress.localAddressTowards(target);
    } catch (URISyntaxException | IOException e) {
      return BraidFuture.failed(new ConnectionFailedException("webrtc: cannot dial " + address + ": " + e, e));
    }
    URI remote = WebRtcAddress.uri(address.getHost(), target.getPort());
    WebRtcConnection c = new WebRtcConnection(this, true, local, remote);
    register(c);
    String token = options.get(WebRtcOptions.BEARER_TOKEN).orElse(null);
    BraidFuture<Connection> result = new BraidFuture<>(); // continuations never run on WebRTC's threads
    c.createOffer()
        .thenApplyAsync(offer -> {
          try {
            return SignalingClient.exchange(endpoint, offer, token, options.connectTimeout());
          } catch (IOException e) {
            throw new CompletionException(e);
          }
        }, ioPool)
        .thenCompose(c::applyAnswer)
        .thenCompose(v -> c.established())
        .applyToEither(timeout(options.connectTimeout().toMillis()), v -> v)
        .whenComplete((v, err) -> {
          if (err == null) {
            if (!result.complete(c)) {
              c.close(); // the caller gave up (cancelled, timed out): a connection nobody holds is closed
            }
            return;
          }
          Throwable cause = err instanceof CompletionException ce && ce.getCause() != null ? ce.getCause() : err;
          String why = cause instanceof TimeoutException
              ? "no connection within connectTimeout " + options.connectTimeout() + " (ICE found no path?)"
              : String.valueOf(cause.getMessage());
          ConnectionFailedException e = new ConnectionFailedException("webrtc: dialing " + address + " failed: " + why, cause);
          c.abort(e);
          result.completeExceptionally(e);
        });
    return result;
  }

  @Override
  public Listener listen(URI address) throws IOException {
    InetSocketAddress bind = WebRtcAddress.parse(address);
    EventLoopGroup group;
    synchronized (lock) {
      if (closed) {
        throw new IOException("webrtc: the transport is closed");
      }
      if (httpGroup == null) {
        httpGroup = new MultiThreadIoEventLoopGroup(1, DaemonThreads.factory("braid-webrtc-http-" + instance + "-"),
            NioIoHandler.newFactory());
      }
      group = httpGroup;
    }
    WebRtcListener l = new WebRtcListener(this, group, bind, address.getHost(), path(address));
    synchronized (lock) {
      if (closed) {
        l.close();
        throw new IOException("webrtc: the transport is closed");
      }
      listeners.add(l);
    }
    return l;
  }

  void listenerClosed(WebRtcListener l) {
    synchronized (lock) {
      listeners.remove(l);
    }
  }

  @Override
  public void close() {
    List<WebRtcListener> ls;
    EventLoopGroup group;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      ls = new ArrayList<>(listeners);
      listeners.clear();
      group = httpGroup;
    }
    for (WebRtcListener l : ls) {
      l.close();
    }
    List<WebRtcConnection> cs = new ArrayList<>(connections);
    for (WebRtcConnection c : cs) {
      c.close();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
    for (WebRtcConnection c : cs) {
      awaitEnd(c, deadline);
    }
    for (WebRtcConnection c : new ArrayList<>(connections)) {
      c.abort(new ConnectionFailedException("webrtc: the transport was closed", null));
      awaitEnd(c, System.nanoTime() + TimeUnit.SECONDS.toNanos(2));
    }
    // Every teardown task is queued before this one on the single signaling thread.
    try {
      signaling.submit(() -> SharedFactory.release(factory)).get(10, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      LOG.log(System.Logger.Level.WARNING, "webrtc: disposing the peer connection factory failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    shutdownExecutors();
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private static void awaitEnd(WebRtcConnection c, long deadline) {
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      return;
    }
    try {
      c.closeFuture().get(left, TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      // ended with a cause: it ended
    } catch (TimeoutException e) {
      LOG.log(System.Logger.Level.DEBUG, "webrtc: {0} did not close in time; aborting it", c);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void shutdownExecutors() {
    signaling.shutdown();
    scheduler.shutdownNow();
    ioPool.shutdown();
    try {
      if (!signaling.awaitTermination(5, TimeUnit.SECONDS)) {
        signaling.shutdownNow();
      }
      if (!ioPool.awaitTermination(5, TimeUnit.SECONDS)) {
        ioPool.shutdownNow();
      }
      scheduler.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---------------------------------------------------------------- addresses

  private String path(URI address) {
    String p = address.getPath();
    if (p != null && !p.isEmpty() && !p.equals("/")) {
      return p;
    }
    return options.get(WebRtcOptions.SIGNALING_PATH);
  }

  @Override
  public String toString() {
    return "WebRtcTransport#" + instance;
  }
}
