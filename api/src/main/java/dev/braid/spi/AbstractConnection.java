package dev.braid.spi;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.ConnectionClosedException;
import dev.braid.ConnectionFailedException;
import dev.braid.MuxedStream;
import dev.braid.StreamRefusedException;
import dev.braid.StreamStateListener;
import dev.braid.TransportOptions;

import java.net.URI;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * What every {@link Connection} shares, implemented once: the list of live streams, the stream limit,
 * the accept queue and stream handler, and the close protocol. A transport implements
 * {@link #doOpenStream}, {@link #doClose()} and {@link #doAbort(Throwable)}, registers each stream it
 * creates with {@link #addStream}, hands inbound streams to {@link #deliverInbound}, and calls
 * {@link #terminated(Throwable, boolean)} once when the native connection is gone.
 *
 * <p><b>Thread safety.</b> Thread-safe. No transport method and no user callback is invoked under a lock.
 *
 * <p><b>Threads.</b> {@link #doOpenStream} runs on the thread that called {@code openStream}, {@link #doClose()}
 * and {@link #doAbort} on the thread that called {@code close}/{@code abort}, once each; none may block. The
 * transport may call {@link #addStream}, {@link #deliverInbound}, {@link #markEnding} and {@link #terminated} from
 * any thread, but not while holding a lock its own hooks take: {@code terminated} fails streams, which may call
 * stream hooks on the calling thread. Futures handed to the application are {@link BraidFuture}s (the
 * transport's {@code doOpenStream} future is relayed), so their continuations never run on a transport thread.
 *
 * <p><b>Streams.</b> The connection observes each registered stream: it counts the stream against
 * {@code maxStreams} until the stream is terminal, and keeps it (so that a connection failure reaches a CLOSED
 * stream still flushing) until the stream is finished on the wire ({@link AbstractMuxedStream#onFinished()}).
 */
public abstract class AbstractConnection implements Connection {
  private static final System.Logger LOG = System.getLogger("dev.braid.connection");
  private static final AtomicLong IDS = new AtomicLong();

  private final long connectionId = IDS.incrementAndGet();
  private final String transportId;
  private final boolean dialer;
  private final URI localAddress;
  private final URI remoteAddress;
  private final Set<Capability> capabilities;
  private final TransportOptions options;
  /** How the connection follows its streams: one for all of them (a stream's signals, not its calls). */
  private final AbstractMuxedStream.StreamObserver streamObserver = new AbstractMuxedStream.StreamObserver() {
    @Override
    public void terminal(AbstractMuxedStream stream) {
      synchronized (lock) {
        liveStreams--;
      }
    }

    @Override
    public void finished(AbstractMuxedStream stream) {
      streams.remove(stream.id(), stream);
    }
  };
  /**
   * Every stream from {@link #addStream} until it is finished on the wire (so a CLOSED stream still flushing
   * its last writes is here, and a connection failure fails those writes).
   */
  private final Map<Long, AbstractMuxedStream> streams = new ConcurrentHashMap<>();
  private final BraidFuture<Void> closeFuture = new BraidFuture<>();
  private final SerialExecutor handlerExecutor = new SerialExecutor(BraidThreads.events());
  private final Object lock = new Object();

  // guarded by lock
  private int liveStreams;
  private final ArrayDeque<AbstractMuxedStream> backlog = new ArrayDeque<>();
  private final ArrayDeque<CompletableFuture<MuxedStream>> acceptors = new ArrayDeque<>();
  private Consumer<MuxedStream> handler;
  private ConnectionFailedException endCause; // set once the connection is closing or gone
  private boolean terminated;

  /**
   * @param transportId the transport's id
   * @param dialer whether we dialed
   * @param localAddress our address
   * @param remoteAddress the peer's address
   * @param capabilities what the transport can do
   * @param options the options in force
   */
  protected AbstractConnection(String transportId, boolean dialer, URI localAddress, URI remoteAddress,
      Set<Capability> capabilities, TransportOptions options) {
    this.transportId = Objects.requireNonNull(transportId, "transportId");
    this.dialer = dialer;
    this.localAddress = Objects.requireNonNull(localAddress, "localAddress");
    this.remoteAddress = Objects.requireNonNull(remoteAddress, "remoteAddress");
    this.capabilities = Set.copyOf(capabilities);
    this.options = Objects.requireNonNull(options, "options");
  }

  // ---------------------------------------------------------------- for transports

  /**
   * Creates and starts opening a stream (already registered with {@link #addStream}). The future
   * completes once the stream is OPEN. Only called while the connection is open and under its limit.
   */
  protected abstract CompletableFuture<MuxedStream> doOpenStream(StreamStateListener listener);

  /** Closes the native connection gracefully (go-away, flush), then calls {@link #terminated}. Called once. */
  protected abstract void doClose();

  /** Tears the native connection down at once, then calls {@link #terminated}. Called once. */
  protected abstract void doAbort(Throwable cause);

  /**
   * Registers a new stream in {@link #streams()}. Returns {@code false}, registering nothing, when the
   * connection has ended or holds {@link TransportOptions#maxStreams()} live streams already: the
   * transport then refuses the stream (an inbound one on the wire).
   */
  protected final boolean addStream(AbstractMuxedStream stream) {
    synchronized (lock) {
      if (endCause != null || liveStreams >= options.maxStreams()) {
        return false;
      }
      if (streams.putIfAbsent(stream.id(), stream) != null) {
        throw new IllegalStateException("stream id " + stream.id() + " is already registered on " + this);
      }
      liveStreams++;
    }
    stream.observe(streamObserver);
    return true;
  }

  /**
   * Whether {@link #addStream} would refuse a stream now (the connection has ended, or holds
   * {@link TransportOptions#maxStreams()} live streams). For a transport to check before it spends native
   * resources on an open that would be refused; {@link #addStream} stays the authority.
   */
  protected final boolean streamLimitReached() {
    synchronized (lock) {
      return endCause != null || liveStreams >= options.maxStreams();
    }
  }

  /**
   * Offers an inbound stream (already registered with {@link #addStream}) to the handler or the accept
   * queue. Returns {@code false} when the accept queue is full: the transport then resets the stream.
   */
  protected final boolean deliverInbound(AbstractMuxedStream stream) {
    CompletableFuture<MuxedStream> acceptor;
    Consumer<MuxedStream> h;
    synchronized (lock) {
      if (endCause != null) {
        return false;
      }
      h = handler;
      acceptor = h == null ? acceptors.poll() : null;
      if (h == null && acceptor == null) {
        if (backlog.size() >= options.maxPendingInboundStreams()) {
          return false;
        }
        backlog.add(stream);
        return true;
      }
    }
    if (h != null) {
      handOver(h, stream);
    } else {
      acceptor.complete(stream);
    }
    return true;
  }

  /**
   * The native connection is gone. Every live stream fails (with a {@link ConnectionClosedException}
   * when {@code cause} is null: a graceful close, by the peer if {@code remote}), pending accepts fail,
   * and {@link #closeFuture()} completes. Idempotent; call it from the transport once the socket closed.
   */
  protected final void terminated(Throwable cause, boolean remote) {
    ConnectionFailedException reason = reasonFor(cause, remote);
    List<AbstractMuxedStream> toFail;
    List<CompletableFuture<MuxedStream>> waiting;
    synchronized (lock) {
      if (terminated) {
        return;
      }
      terminated = true;
      if (endCause == null) {
        endCause = reason;
      }
      reason = endCause;
      toFail = new ArrayList<>(streams.values());
      waiting = new ArrayList<>(acceptors);
      acceptors.clear();
      backlog.clear();
    }
    for (AbstractMuxedStream s : toFail) {
      s.fail(reason); // a CLOSED stream still flushing keeps its state; its unsent writes fail with the reason
    }
    for (CompletableFuture<MuxedStream> f : waiting) {
      f.completeExceptionally(reason);
    }
    if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
      LOG.log(System.Logger.Level.DEBUG, "{0} ended: {1}", this, reason.getMessage());
    }
    if (reason instanceof ConnectionClosedException) {
      closeFuture.complete(null);
    } else {
      closeFuture.completeExceptionally(reason);
    }
  }

  /** The reason this connection ended or is ending, or null while it is open. */
  protected final ConnectionFailedException endCause() {
    synchronized (lock) {
      return endCause;
    }
  }

  /** A process-wide unique number for logs and JFR events. */
  public final long connectionId() {
    return connectionId;
  }

  // ---------------------------------------------------------------- Connection

  @Override
  public final String transportId() {
    return transportId;
  }

  @Override
  public final boolean isDialer() {
    return dialer;
  }

  @Override
  public final URI localAddress() {
    return localAddress;
  }

  @Override
  public final URI remoteAddress() {
    return remoteAddress;
  }

  @Override
  public final Set<Capability> capabilities() {
    return capabilities;
  }

  @Override
  public final TransportOptions options() {
    return options;
  }

  @Override
  public final CompletableFuture<MuxedStream> openStream(StreamStateListener listener) {
    synchronized (lock) {
      if (endCause != null) {
        return BraidFuture.failed(endCause);
      }
      if (liveStreams >= options.maxStreams()) {
        return BraidFuture.failed(new StreamRefusedException(
            "stream limit reached: " + liveStreams + " live streams, maxStreams=" + options.maxStreams()));
      }
    }
    try {
      CompletableFuture<MuxedStream> opening = doOpenStream(listener);
      BraidFuture<MuxedStream> result = BraidFuture.relay(opening);
      result.whenCompleteInline((s, e) -> {
        if (e != null) {
          // The caller gave up (cancelled, timed out): a stream that opens after all has no owner; reset it.
          opening.thenAccept(orphan -> orphan.reset(0));
        }
      });
      return result;
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "transport failed to open a stream on " + this, e);
      return BraidFuture.failed(new ConnectionFailedException("transport failed to open a stream", e));
    }
  }

  @Override
  public final CompletableFuture<MuxedStream> acceptStream() {
    BraidFuture<MuxedStream> f = new BraidFuture<>();
    AbstractMuxedStream ready;
    synchronized (lock) {
      if (handler != null) {
        throw new IllegalStateException("a stream handler is set; acceptStream() cannot be mixed with it");
      }
      ready = backlog.poll();
      if (ready == null) {
        if (endCause != null) {
          return BraidFuture.failed(endCause);
        }
        acceptors.add(f);
        return f;
      }
    }
    f.complete(ready);
    return f;
  }

  @Override
  public final void setStreamHandler(Consumer<MuxedStream> newHandler) {
    Objects.requireNonNull(newHandler, "handler");
    List<AbstractMuxedStream> queued;
    synchronized (lock) {
      if (handler != null) {
        throw new IllegalStateException("a stream handler is already set");
      }
      if (!acceptors.isEmpty()) {
        throw new IllegalStateException("acceptStream() is pending; a handler cannot be mixed with it");
      }
      handler = newHandler;
      queued = new ArrayList<>(backlog);
      backlog.clear();
    }
    for (AbstractMuxedStream s : queued) {
      handOver(newHandler, s);
    }
  }

  private void handOver(Consumer<MuxedStream> h, AbstractMuxedStream stream) {
    handlerExecutor.execute(() -> {
      try {
        h.accept(stream);
      } catch (RuntimeException | Error e) {
        LOG.log(System.Logger.Level.WARNING, "stream handler threw on " + stream + "; the stream is reset", e);
        stream.reset(0);
      }
    });
  }

  @Override
  public final List<MuxedStream> streams() {
    List<MuxedStream> live = new ArrayList<>(streams.size());
    for (AbstractMuxedStream s : streams.values()) {
      if (!s.state().isTerminal()) {
        live.add(s);
      }
    }
    return live;
  }

  @Override
  public final boolean isOpen() {
    synchronized (lock) {
      return endCause == null;
    }
  }

  @Override
  public final CompletableFuture<Void> closeFuture() {
    return closeFuture.copy();
  }

  @Override
  public final void close() {
    ConnectionClosedException reason = new ConnectionClosedException("connection closed locally", false);
    if (markEnding(reason)) {
      failStreams(reason, false); // CLOSED streams still flushing go on: doClose() lets them finish
      try {
        doClose();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "transport failed to close " + this, e);
        terminated(e, false);
      }
    }
  }

  @Override
  public final void abort(Throwable cause) {
    Objects.requireNonNull(cause, "cause");
    ConnectionFailedException reason = reasonFor(cause, false);
    if (markEnding(reason)) {
      failStreams(reason, true); // CLOSED streams still flushing too: nothing is flushed on abort
      try {
        doAbort(cause);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "transport failed to abort " + this, e);
        terminated(e, false);
      }
    }
  }

  /**
   * Marks the connection as ending with {@code reason} (no new streams from now on). Returns whether
   * this call did it. Transports call it when the peer starts a graceful close (go-away).
   */
  protected final boolean markEnding(ConnectionFailedException reason) {
    synchronized (lock) {
      if (endCause != null) {
        return false;
      }
      endCause = reason;
      return true;
    }
  }

  private void failStreams(ConnectionFailedException reason, boolean flushingToo) {
    for (AbstractMuxedStream s : new ArrayList<>(streams.values())) {
      if (flushingToo || !s.state().isTerminal()) {
        s.fail(reason);
      }
    }
  }

  private static ConnectionFailedException reasonFor(Throwable cause, boolean remote) {
    if (cause == null) {
      return new ConnectionClosedException(remote ? "connection closed by the peer" : "connection closed locally",
          remote);
    }
    if (cause instanceof ConnectionFailedException) {
      return (ConnectionFailedException) cause;
    }
    return new ConnectionFailedException("connection lost: " + cause, cause);
  }

  @Override
  public String toString() {
    return transportId + "#" + connectionId + (dialer ? " to " + remoteAddress : " from " + remoteAddress);
  }
}
