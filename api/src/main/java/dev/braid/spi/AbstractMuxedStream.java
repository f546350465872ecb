package dev.braid.spi;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.ConnectionFailedException;
import dev.braid.MuxedStream;
import dev.braid.StreamRefusedException;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.StreamStateListener;
import dev.braid.WriteClosedException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The lifecycle of {@link MuxedStream}, implemented once for every transport. A transport extends this
 * class, moves bytes and signals on the wire in the {@code transmit*} hooks, reports what arrives through the
 * {@code receive*} methods, {@link #opened()}, {@link #refuse} and {@link #fail(Throwable)}, and releases the
 * stream's native resources in {@link #onFinished()}. Everything else (the state machine, atomic
 * check-then-act, listener delivery, the receive buffer ({@link InboundBuffer}), the send queue
 * ({@link OutboundQueue}), the blocking views, the linger bound, logging and JFR events) lives here.
 *
 * <p><b>Threads: what the transport may rely on.</b> (The whole contract: SPEC.md, "Threads".)
 * <ul>
 *   <li>One private lock guards all state. No hook and no user callback is ever called while it is held, and
 *       no hook is called under a lock an application can observe (no {@code synchronized} on the stream or
 *       the connection object).</li>
 *   <li>The outbound hooks ({@link #transmit}, {@link #transmitFin()}, {@link #transmitStopSending},
 *       {@link #transmitReset}) are called one at a time for a stream, never concurrently, on whichever thread
 *       made the work available: the application thread that called {@code write}/{@code closeWrite}/
 *       {@code closeRead}/{@code reset}, the Braid timer handing over a linger reset, or the thread that
 *       completed the previous {@code transmit} future. The last case re-enters: completing a {@code transmit}
 *       future inside the transport (on its I/O thread, say) may call {@code transmit} or {@code transmitFin}
 *       again before {@code complete} returns. A hook must not block.</li>
 *   <li>{@code transmit} is called again only after the future of the previous one completed;
 *       {@code transmitFin()} only after every {@code transmit} future completed; no {@code transmit},
 *       {@code transmitFin} or {@code transmitStopSending} before {@link #opened()}; nothing after
 *       {@code transmitReset}. {@code transmitReset} may come while a {@code transmit} future is pending (the
 *       transport then abandons that transmission) and, once, after {@code transmitFin} (with
 *       {@link StreamResetException#INTERNAL_ERROR}, when a terminal stream lingers past its bound).</li>
 *   <li>The inbound notifications ({@code receive*}, {@code opened}, {@code refuse}, {@code fail}) may be called
 *       from any thread, in wire order for one stream, but not while the transport holds a lock that its own
 *       hooks take: they complete application futures, wake blocked readers and may call {@link #consumed},
 *       {@code transmit*}, {@link #onTerminated} and {@link #onFinished()} on the calling thread before they
 *       return. Application continuations never run on that thread ({@link BraidFuture}).</li>
 *   <li>{@link #onTerminated} and {@link #onFinished()} are called once each, outside every lock, on the thread
 *       whose operation caused them.</li>
 * </ul>
 *
 * <p><b>End of life on the wire.</b> A stream is <em>finished</em> when it is terminal, nothing more will be
 * handed to the transport (its FIN or reset went out, the peer stopped our writes, or the connection failed),
 * and nothing more is expected from the peer (its FIN or reset arrived, or we reset the stream). Then, and only
 * then, {@link #onFinished()} runs and the connection forgets the stream: a CLOSED stream that is still
 * flushing its last writes is not finished. A terminal stream that does not finish within the connection's
 * {@link dev.braid.TransportOptions#idleTimeout()} (a peer that never sends its FIN after our closeRead, or
 * never grants window for our last bytes) is reset with {@link StreamResetException#INTERNAL_ERROR} and
 * finished. A stream that fails while its connection is open (a transport error on this stream alone: a failed
 * {@code transmit} future, or {@link #fail} called by the transport) is reset on the wire with
 * {@link StreamResetException#INTERNAL_ERROR}, except when a {@code transmit*} hook itself threw (nothing more is
 * handed to a transport whose hook failed); a refused one with
 * {@link StreamResetException#REFUSED}. No transport keeps its own flushing flag or linger timer.
 */
public abstract class AbstractMuxedStream implements MuxedStream {
  private static final System.Logger LOG = System.getLogger("dev.braid.stream");

  private final AbstractConnection connection;
  private final long id;
  private final boolean locallyInitiated;
  private final Object lock = new Object();
  private final Transitions transitions;
  /**
   * The stream's two signals to the connection that observes it (its live count, its table): {@link #TERMINAL}
   * when it turns terminal, before its listeners hear of it, and {@link #FINISHED} when it is finished on the
   * wire. Bits of {@code signals}; {@link #OBSERVED} once the observer is set. Each reaches the observer exactly
   * once, whichever comes first, signal or observer (one int and one reference where two futures with their
   * callbacks cost about 170 bytes per stream).
   */
  private static final int TERMINAL = 1;
  private static final int FINISHED = 2;
  private static final int OBSERVED = 4;
  private static final VarHandle SIGNALS;

  static {
    try {
      SIGNALS = MethodHandles.lookup().findVarHandle(AbstractMuxedStream.class, "signals", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @SuppressWarnings("unused") // through SIGNALS
  private volatile int signals;
  private StreamObserver observer; // written once, before OBSERVED is set; read after it was seen

  /** What the connection learns of each of its streams: see {@link #observe}. */
  interface StreamObserver {
    /** The stream turned terminal (before its listeners hear of it). */
    void terminal(AbstractMuxedStream stream);

    /** The stream is finished on the wire. */
    void finished(AbstractMuxedStream stream);
  }

  // Everything below is guarded by lock.
  private StreamState state;
  private boolean opened;
  private boolean finReceived;
  private boolean readClosedLocally;
  private boolean writeClosed;
  private WriteClosedException writeClosedError;
  private boolean stoppedByPeer;
  private StreamState terminalFailureState; // RESET or FAILED once aborted
  private IOException terminalError;
  private boolean inputAbandoned; // nothing more arrives: the peer ended its send side after our closeRead, or
                                  // reset, or the connection failed, after we were terminal
  private final InboundBuffer inbound = new InboundBuffer();
  private final OutboundQueue outbound = new OutboundQueue();
  private CompletableFuture<Void> closeWriteFuture;
  private long bytesWritten;
  private boolean finished;
  private ScheduledFuture<?> linger;

  private volatile InputStream inputView;
  private volatile OutputStream outputView;

  /**
   * @param connection the connection carrying the stream
   * @param id the stream's id within the connection
   * @param locallyInitiated whether we opened it
   * @param opening {@code true} to start in {@link StreamState#OPENING} (call {@link #opened()} when usable),
   *     {@code false} to start {@link StreamState#OPEN}
   * @param listener a listener that sees the first transition; may be null
   */
  protected AbstractMuxedStream(AbstractConnection connection, long id, boolean locallyInitiated, boolean opening,
      StreamStateListener listener) {
    this.connection = Objects.requireNonNull(connection, "connection");
    this.id = id;
    this.locallyInitiated = locallyInitiated;
    this.opened = !opening;
    this.state = opening ? StreamState.OPENING : StreamState.OPEN;
    this.transitions = new Transitions(this, connection.transportId(), connection.connectionId(), listener);
    if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
      LOG.log(System.Logger.Level.DEBUG, "{0} {1} stream {2}: {3}", connection.transportId(),
          locallyInitiated ? "opened" : "accepted", this, state);
    }
  }

  // ---------------------------------------------------------------- transport hooks (outbound)

  /**
   * Sends {@code data} (its remaining bytes, all of them, in order). The future completes when the
   * transport has accepted every byte within the peer's flow-control window; after that the transport
   * must not touch {@code data} again. Complete it exceptionally only for a transport failure.
   */
  protected abstract CompletableFuture<Void> transmit(ByteBuffer data);

  /** Sends end-of-stream (FIN) after every byte transmitted before. */
  protected abstract void transmitFin();

  /** Aborts the stream on the wire with {@code code} (RST / RESET_STREAM, plus STOP_SENDING where it exists). */
  protected abstract void transmitReset(long code);

  /**
   * Tells the peer that we stopped reading (STOP_SENDING). Called only for transports with
   * {@link Capability#STOP_SENDING}; the default does nothing.
   */
  protected void transmitStopSending(long code) {}

  /**
   * The application consumed (or closeRead discarded) {@code bytes} of received data: the transport may
   * grant the peer that much more window. Called outside any lock. The default does nothing.
   */
  protected void consumed(int bytes) {}

  /**
   * Called once, outside any lock, right after the stream reached a terminal state (it may still be flushing:
   * release native resources in {@link #onFinished()}). The default does nothing.
   */
  protected void onTerminated(StreamState finalState) {}

  /**
   * Called once, outside any lock, when the stream is finished on the wire (see the class comment): the
   * transport releases what it holds for the stream. It may run as soon as {@code transmitFin} or
   * {@code transmitReset} returned: a transport that puts those on the wire later (on its own sender thread) must
   * let them go out first and must not send anything of its own from here that could overtake them. The default
   * does nothing.
   */
  protected void onFinished() {}

  // ---------------------------------------------------------------- transport notifications (inbound)

  /** The stream became usable: {@link StreamState#OPENING} → {@link StreamState#OPEN}. Idempotent. */
  protected final void opened() {
    Deferred d = new Deferred();
    synchronized (lock) {
      if (opened) {
        return;
      }
      opened = true;
      updateStateLocked(d);
    }
    d.run();
    pumpOutbound();
  }

  /**
   * Bytes arrived from the peer. Ownership of {@code data} passes to the stream. The transport must
   * enforce its receive window before calling this; the stream buffers what it is given.
   */
  protected final void receive(ByteBuffer data) {
    receive(data, false);
  }

  /**
   * Bytes arrived in a buffer the transport goes on using (a view of its own I/O buffer, say): the stream copies them
   * before it returns and keeps no reference to {@code data}. Where a read is waiting and nothing is buffered ahead of
   * it, the bytes go straight into the reader's buffer: one copy and no allocation, where {@link #receive} needs the
   * transport's copy and then the reader's. Otherwise as {@link #receive}.
   */
  protected final void receiveCopy(ByteBuffer data) {
    receive(data, true);
  }

  private void receive(ByteBuffer data, boolean copy) {
    int n = data.remaining();
    if (n == 0) {
      return;
    }
    Deferred d = new Deferred();
    synchronized (lock) {
      if (terminalFailureState != null || finReceived) {
        return; // aborted or after FIN: nothing more is wanted (the transport treats data after FIN as an error)
      }
      if (readClosedLocally) {
        d.add(() -> consumed(n));
      } else {
        if (copy) {
          inbound.copyIn(data);
        } else {
          inbound.add(data);
        }
        inbound.serve(d, false, this::consumed);
      }
    }
    d.run();
  }

  /** The peer ended its write direction (FIN): after the buffered bytes, reads return end-of-stream. */
  protected final void receiveFin() {
    Deferred d = new Deferred();
    synchronized (lock) {
      if (finReceived || terminalFailureState != null) {
        return;
      }
      finReceived = true;
      inbound.serve(d, true, this::consumed);
      updateStateLocked(d);
      checkFinishedLocked(d);
    }
    d.run();
  }

  /**
   * The peer reset the stream with {@code code}. The reserved code {@link StreamResetException#REFUSED} is the
   * peer's refusal: reads and writes then fail with {@link StreamRefusedException}.
   */
  protected final void receiveReset(long code) {
    abort(StreamState.RESET, code == StreamResetException.REFUSED
        ? new StreamRefusedException("the peer refused stream " + this + " (its stream limit, its accept backlog, "
            + "or it is closing)", true)
        : new StreamResetException(code, true), false);
  }

  /**
   * Refuses an inbound stream the transport had already created (its accept backlog is full, say): the stream
   * ends {@link StreamState#RESET} and the peer receives a reset with the reserved code
   * {@link StreamResetException#REFUSED}, which it reports as {@link StreamRefusedException}.
   */
  protected final void refuse(String why) {
    abort(StreamState.RESET, new StreamRefusedException(why, false), true);
  }

  /**
   * The peer asked us to stop sending (STOP_SENDING) with {@code code}: queued writes fail and the
   * write direction ends.
   */
  protected final void receiveStopSending(long code) {
    Deferred d = new Deferred();
    synchronized (lock) {
      if (terminalFailureState != null || (writeClosed && outbound.finSent())) {
        return;
      }
      WriteClosedException error = new WriteClosedException(WriteClosedException.Reason.STOPPED_BY_PEER, code);
      writeClosed = true;
      writeClosedError = error;
      stoppedByPeer = true;
      outbound.dropFin(); // nothing more is sent; the protocol ends our send side (e.g. QUIC RESET_STREAM)
      outbound.failWrites(d, error);
      if (closeWriteFuture != null && !closeWriteFuture.isDone()) {
        CompletableFuture<Void> f = closeWriteFuture;
        d.add(() -> f.completeExceptionally(error));
      }
      updateStateLocked(d);
      checkFinishedLocked(d);
    }
    d.run();
  }

  /**
   * After our closeRead, the peer ended its send side on the wire without a FIN we could deliver (its answer to
   * STOP_SENDING: QUIC's RESET_STREAM, say): nothing more will arrive, and the stream's state does not change (a
   * peer's reset of a stream we are still reading is {@link #receiveReset}). Before closeRead it is ignored.
   */
  protected final void receiveEndOfInput() {
    Deferred d = new Deferred();
    synchronized (lock) {
      if (!readClosedLocally && !state.isTerminal()) {
        return;
      }
      inputAbandoned = true;
      checkFinishedLocked(d);
    }
    d.run();
  }

  /**
   * The connection under the stream died, or the transport hit an unexpected error on this stream: the
   * stream becomes {@link StreamState#FAILED} (if not terminal already) and every pending operation fails.
   * While the connection is open, the peer is told with a reset ({@link StreamResetException#INTERNAL_ERROR}).
   */
  protected final void fail(Throwable cause) {
    ConnectionFailedException error = cause instanceof ConnectionFailedException cfe ? cfe
        : new ConnectionFailedException("the connection under the stream failed: " + cause, cause);
    abort(StreamState.FAILED, error, false);
  }

  /** Bytes received and buffered but not yet read. */
  protected final int bufferedInboundBytes() {
    synchronized (lock) {
      return inbound.bytes();
    }
  }

  /** The connection as the transport's own type. */
  protected AbstractConnection abstractConnection() {
    return connection;
  }

  // ---------------------------------------------------------------- MuxedStream

  @Override
  public final long id() {
    return id;
  }

  @Override
  public Connection connection() {
    return connection;
  }

  @Override
  public final boolean isLocallyInitiated() {
    return locallyInitiated;
  }

  @Override
  public final StreamState state() {
    synchronized (lock) {
      return state;
    }
  }

  @Override
  public final long bytesRead() {
    synchronized (lock) {
      return inbound.delivered();
    }
  }

  @Override
  public final long bytesWritten() {
    synchronized (lock) {
      return bytesWritten;
    }
  }

  @Override
  public final CompletableFuture<Integer> read(ByteBuffer dst) {
    Objects.requireNonNull(dst, "dst");
    if (!dst.hasRemaining()) {
      throw new IllegalArgumentException("read buffer has no room left");
    }
    if (dst.isReadOnly()) {
      throw new IllegalArgumentException("read buffer is read-only");
    }
    BraidFuture<Integer> result = new BraidFuture<>();
    Deferred d = new Deferred();
    synchronized (lock) {
      inbound.startRead(dst, result); // throws ReadPendingException, changing nothing
      if (terminalFailureState != null) {
        inbound.takeRead();
        IOException e = terminalError;
        d.add(() -> result.completeExceptionally(e));
      } else {
        inbound.serve(d, finReceived || readClosedLocally, this::consumed);
      }
    }
    d.run();
    return result;
  }

  @Override
  public final CompletableFuture<Void> write(ByteBuffer src) {
    Objects.requireNonNull(src, "src");
    OutboundQueue.PendingWrite w;
    synchronized (lock) {
      if (terminalFailureState != null) {
        return BraidFuture.failed(terminalError);
      }
      if (writeClosed) {
        return BraidFuture.failed(writeClosedError);
      }
      if (!src.hasRemaining()) {
        return BraidFuture.completed(null);
      }
      w = new OutboundQueue.PendingWrite(src, new BraidFuture<>());
      outbound.add(w);
      if (outbound.mustWait(opened)) {
        return w.future(); // the running pump, the in-flight completion, or opened() picks it up
      }
    }
    pumpOutbound();
    return w.future();
  }

  @Override
  public final CompletableFuture<Void> closeWrite() {
    Deferred d = new Deferred();
    CompletableFuture<Void> result;
    synchronized (lock) {
      if (closeWriteFuture != null) {
        return closeWriteFuture;
      }
      closeWriteFuture = new BraidFuture<>();
      result = closeWriteFuture;
      if (terminalFailureState != null || writeClosed) {
        // Nothing to close gracefully any more (terminal, or the peer already stopped our writes): a no-op.
        d.add(() -> result.complete(null));
      } else {
        writeClosed = true;
        writeClosedError = new WriteClosedException(WriteClosedException.Reason.CLOSED_LOCALLY, 0);
        outbound.queueFin();
        updateStateLocked(d);
      }
    }
    d.run();
    pumpOutbound();
    return result;
  }

  @Override
  public final void closeRead() {
    Deferred d = new Deferred();
    int discarded;
    boolean signal;
    synchronized (lock) {
      if (readClosedLocally || state.isTerminal()) {
        return; // a no-op in a terminal state: a CLOSED stream keeps its unread bytes readable
      }
      readClosedLocally = true;
      discarded = inbound.discard();
      inbound.serve(d, true, this::consumed);
      signal = !finReceived && connection.capabilities().contains(Capability.STOP_SENDING);
      if (signal) {
        outbound.queueStopSending(0);
      }
      updateStateLocked(d);
    }
    d.run();
    if (discarded > 0) {
      consumed(discarded);
    }
    if (signal) {
      pumpOutbound();
    }
  }

  @Override
  public final void close() {
    closeRead();
    closeWrite();
  }

  @Override
  public final void reset(long code) {
    if (code < 0 || code > StreamResetException.MAX_APPLICATION_CODE) {
      throw new IllegalArgumentException("reset code must be between 0 and " + StreamResetException.MAX_APPLICATION_CODE
          + (code > StreamResetException.MAX_APPLICATION_CODE && code <= 0xFFFF_FFFFL
              ? " (the codes above are reserved for Braid's own use on the wire)" : "") + ", was " + code);
    }
    abort(StreamState.RESET, new StreamResetException(code, false), true);
  }

  @Override
  public final void addListener(StreamStateListener listener) {
    transitions.add(Objects.requireNonNull(listener, "listener"));
  }

  @Override
  public final void removeListener(StreamStateListener listener) {
    transitions.remove(listener);
  }

  @Override
  public final CompletableFuture<StreamState> terminated() {
    return transitions.terminated();
  }

  @Override
  public final InputStream inputStream() {
    InputStream v = inputView;
    if (v == null) {
      synchronized (lock) {
        if (inputView == null) {
          inputView = new BlockingViews.Input(this);
        }
        v = inputView;
      }
    }
    return v;
  }

  @Override
  public final OutputStream outputStream() {
    OutputStream v = outputView;
    if (v == null) {
      synchronized (lock) {
        if (outputView == null) {
          outputView = new BlockingViews.Output(this);
        }
        v = outputView;
      }
    }
    return v;
  }

  @Override
  public String toString() {
    return connection.transportId() + "#" + connection.connectionId() + "/" + id;
  }

  // ---------------------------------------------------------------- internals

  boolean cancelRead(CompletableFuture<Integer> f) {
    synchronized (lock) {
      return inbound.cancelRead(f);
    }
  }

  private void abort(StreamState target, IOException error, boolean localReset) {
    Deferred d = new Deferred();
    boolean send = false;
    synchronized (lock) {
      if (state.isTerminal()) {
        // A CLOSED stream may still be flushing writes made before close(); a failure or a peer reset
        // ends those. Our own reset() in a terminal state is a no-op (rule C5).
        if (!localReset) {
          outbound.failWrites(d, error);
          failCloseWriteLocked(d, error);
          outbound.kill();
          inputAbandoned = true;
          checkFinishedLocked(d);
        }
      } else {
        terminalFailureState = target;
        terminalError = error;
        inbound.discard();
        outbound.failWrites(d, error);
        failCloseWriteLocked(d, error);
        CompletableFuture<Integer> pending = inbound.takeRead();
        if (pending != null) {
          d.add(() -> pending.completeExceptionally(error));
        }
        long code = localReset ? ((StreamResetException) error).code()
            : target == StreamState.FAILED && connection.isOpen() ? StreamResetException.INTERNAL_ERROR : -1;
        if (code >= 0 && !outbound.isDead()) {
          outbound.queueReset(code); // a local reset, or this stream alone failed: tell the peer
          send = true;
        } else {
          outbound.kill();
        }
        updateStateLocked(d);
      }
    }
    if (send) {
      pumpOutbound(); // the reset goes on the wire before onTerminated() lets the transport clean up
    }
    d.run();
  }

  private void failCloseWriteLocked(Deferred d, IOException error) {
    if (closeWriteFuture != null && !closeWriteFuture.isDone() && !outbound.finSent()) {
      CompletableFuture<Void> f = closeWriteFuture;
      d.add(() -> f.completeExceptionally(error));
    }
  }

  /** Moves outbound work to the transport, one action at a time, never under the lock. */
  private void pumpOutbound() {
    while (true) {
      OutboundQueue.Action action;
      synchronized (lock) {
        action = outbound.next(opened);
        if (action == null) {
          return;
        }
      }
      try {
        if (action instanceof OutboundQueue.Data data) {
          transmitOne(data.write());
        } else if (action instanceof OutboundQueue.Fin) {
          transmitFin();
          completeCloseWrite();
        } else if (action instanceof OutboundQueue.StopSending stop) {
          transmitStopSending(stop.code());
        } else if (action instanceof OutboundQueue.Reset reset) {
          transmitReset(reset.code());
        }
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "transport failed to send on stream " + this, e);
        synchronized (lock) {
          outbound.done();
          outbound.kill();
        }
        fail(e);
        finishIfDone();
        return;
      }
      Deferred d = new Deferred();
      synchronized (lock) {
        outbound.done();
        checkFinishedLocked(d);
      }
      d.run();
    }
  }

  private void completeCloseWrite() {
    CompletableFuture<Void> f;
    synchronized (lock) {
      f = closeWriteFuture;
    }
    if (f != null) {
      f.complete(null);
    }
  }

  private void transmitOne(OutboundQueue.PendingWrite w) {
    int n = w.data().remaining();
    CompletableFuture<Void> sent = transmit(w.data());
    sent.whenComplete((ok, err) -> {
      boolean mine;
      synchronized (lock) {
        mine = outbound.completed(w);
        if (mine && err == null) {
          bytesWritten += n;
        }
      }
      if (!mine) {
        return; // already failed by a reset or failure; the transport abandoned it
      }
      if (err == null) {
        w.future().complete(null);
        pumpOutbound();
      } else {
        Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        fail(cause);
        w.future().completeExceptionally(failureFor(cause));
      }
    });
  }

  private IOException failureFor(Throwable cause) {
    synchronized (lock) {
      if (terminalError != null) {
        return terminalError;
      }
    }
    return new ConnectionFailedException("transport failed: " + cause, cause);
  }

  private void finishIfDone() {
    Deferred d = new Deferred();
    synchronized (lock) {
      checkFinishedLocked(d);
    }
    d.run();
  }

  /** Schedules {@link #onFinished()} once the stream is finished on the wire; arms the linger bound otherwise. */
  private void checkFinishedLocked(Deferred d) {
    if (finished || !state.isTerminal()) {
      return;
    }
    boolean inputEnded = finReceived || terminalFailureState != null || inputAbandoned;
    if (inputEnded && outbound.ended(stoppedByPeer)) {
      finished = true;
      ScheduledFuture<?> timer = linger;
      linger = null;
      d.add(() -> finish(timer));
    } else if (linger == null) {
      long millis = Math.max(1, connection.options().idleTimeout().toMillis());
      linger = BraidThreads.timer().schedule(() -> BraidThreads.events().execute(this::lingerExpired), millis,
          TimeUnit.MILLISECONDS);
    }
  }

  /** The linger bound passed: whatever is still unsent or unheard is abandoned with a reset. */
  private void lingerExpired() {
    boolean send = false;
    synchronized (lock) {
      if (finished) {
        return;
      }
      inputAbandoned = true;
      if (!outbound.isDead()) {
        IOException error = new ConnectionFailedException("stream " + this + " lingered "
            + connection.options().idleTimeout().toMillis() + " ms after it ended without finishing on the wire", null);
        Deferred d = new Deferred();
        outbound.failWrites(d, error);
        failCloseWriteLocked(d, error);
        outbound.queueReset(StreamResetException.INTERNAL_ERROR);
        send = true;
        transitions.later(d::run);
      }
    }
    LOG.log(System.Logger.Level.DEBUG, "{0}: lingered past its bound; reset", this);
    if (send) {
      pumpOutbound();
    }
    finishIfDone();
  }

  /**
   * The connection observes this stream from now on: signals raised before are delivered now (terminal first),
   * later ones when they are raised. Called once.
   */
  final void observe(StreamObserver o) {
    observer = Objects.requireNonNull(o, "observer");
    int before = (int) SIGNALS.getAndBitwiseOr(this, OBSERVED);
    if ((before & OBSERVED) != 0) {
      throw new IllegalStateException("stream " + this + " is observed already");
    }
    if ((before & TERMINAL) != 0) {
      o.terminal(this);
    }
    if ((before & FINISHED) != 0) {
      o.finished(this);
    }
  }

  private void signal(int bit) {
    int before = (int) SIGNALS.getAndBitwiseOr(this, bit);
    if ((before & bit) == 0 && (before & OBSERVED) != 0) {
      if (bit == TERMINAL) {
        observer.terminal(this);
      } else {
        observer.finished(this);
      }
    }
  }

  private void finish(ScheduledFuture<?> timer) {
    if (timer != null) {
      timer.cancel(false);
    }
    signal(FINISHED);
    try {
      onFinished();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "transport cleanup failed for stream " + this, e);
    }
  }

  private void updateStateLocked(Deferred d) {
    StreamState next;
    if (terminalFailureState != null) {
      next = terminalFailureState;
    } else if (!opened) {
      next = StreamState.OPENING;
    } else {
      boolean r = finReceived || readClosedLocally;
      boolean w = writeClosed;
      next = r && w ? StreamState.CLOSED : r ? StreamState.READ_CLOSED : w ? StreamState.WRITE_CLOSED : StreamState.OPEN;
    }
    StreamState from = state;
    if (next == from) {
      return;
    }
    if (!from.canTransitionTo(next)) {
      throw new IllegalStateException("illegal transition " + from + " -> " + next + " on " + this);
    }
    state = next;
    long read = inbound.delivered();
    long written = bytesWritten;
    if (next.isTerminal()) {
      d.add(() -> signal(TERMINAL)); // the connection's live count drops before anyone hears of it
    }
    transitions.announce(d, from, next, read, written, this::onTerminated);
    checkFinishedLocked(d);
  }
}
