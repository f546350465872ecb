package dev.braid.spi;

import dev.braid.Connection;
import dev.braid.ConnectionFailedException;
import dev.braid.MuxedStream;
import dev.braid.StreamRefusedException;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.StreamStateListener;
import dev.braid.WriteClosedException;
import dev.braid.internal.BraidThreads;

import dev.braid.internal.StreamEvents;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadPendingException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;

/**
 * The lifecycle of {@link MuxedStream}, implemented once for every transport. A transport extends this
 * class, moves bytes and signals on the wire in the {@code transmit*} methods, and reports what arrives
 * through the {@code receive*} methods, {@link #opened()} and {@link #fail(Throwable)}. Everything else
 * (the state machine, atomic check-then-act, listener delivery, buffering, the blocking views, logging
 * and JFR events) lives here.
 *
 * <p><b>Thread safety.</b> Thread-safe. One private lock guards all state; no transport method and no
 * user callback is ever invoked while it is held. The {@code receive*}, {@link #opened()} and
 * {@link #fail} methods may be called from any thread, but a transport must not call them while holding
 * a lock of its own that a user callback could need, and must call them in wire order for one stream.
 *
 * <p><b>Outbound contract.</b> Calls to {@link #transmit}, {@link #transmitFin()},
 * {@link #transmitStopSending(long)} and {@link #transmitReset(long)} for one stream are never
 * concurrent. No {@code transmit}, {@code transmitFin} or {@code transmitStopSending} is called before
 * {@link #opened()}; {@code transmitReset} may be (a stream reset while OPENING). {@code transmit} is called again
 * only after the future of the previous one completed; {@code transmitFin()} only after every
 * {@code transmit} future completed; nothing is called after {@code transmitReset}.
 * {@code transmitReset} and {@code transmitStopSending} may come while a {@code transmit} future is still
 * pending; after a reset, a failure, or a peer's STOP_SENDING the transport abandons that transmission
 * (its future is no longer awaited).
 */
public abstract class AbstractMuxedStream implements MuxedStream {
  private static final System.Logger LOG = System.getLogger("dev.braid.stream");

  private final AbstractConnection connection;
  private final long id;
  private final boolean locallyInitiated;
  private final Object lock = new Object();
  private final SerialExecutor events = new SerialExecutor(BraidThreads.events());
  private final CopyOnWriteArrayList<StreamStateListener> listeners = new CopyOnWriteArrayList<>();
  private final CompletableFuture<StreamState> terminated = new CompletableFuture<>();
  private final StreamEvents.Close lifetimeEvent = new StreamEvents.Close();

  // Everything below is guarded by lock.
  private StreamState state;
  private boolean opened;
  private boolean finReceived;
  private boolean readClosedLocally;
  private boolean writeClosed;
  private WriteClosedException writeClosedError;
  private StreamState terminalFailureState; // RESET or FAILED once aborted
  private IOException terminalError;
  private final ArrayDeque<ByteBuffer> inbound = new ArrayDeque<>();
  private int inboundBytes;
  private PendingRead pendingRead;
  private final ArrayDeque<PendingWrite> writeQueue = new ArrayDeque<>();
  private PendingWrite inFlight;
  private boolean finQueued;
  private boolean finSent;
  private CompletableFuture<Void> closeWriteFuture;
  private boolean resetQueued;
  private long resetCodeToSend;
  private boolean outboundDead;
  private boolean stopSendingQueued;
  private long stopSendingCode;
  private boolean outboundBusy;
  private long bytesRead;
  private long bytesWritten;

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
    if (listener != null) {
      listeners.add(listener);
    }
    lifetimeEvent.begin();
    StreamEvents.Open open = new StreamEvents.Open();
    if (open.isEnabled()) {
      open.transport = connection.transportId();
      open.connection = connection.connectionId();
      open.stream = id;
      open.local = locallyInitiated;
      open.commit();
    }
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
   * {@link dev.braid.Capability#STOP_SENDING}; the default does nothing.
   */
  protected void transmitStopSending(long code) {}

  /**
   * The application consumed (or closeRead discarded) {@code bytes} of received data: the transport may
   * grant the peer that much more window. Called outside any lock. The default does nothing.
   */
  protected void consumed(int bytes) {}

  /** Called once, outside any lock, right after the stream reached a terminal state. The default does nothing. */
  protected void onTerminated(StreamState finalState) {}

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
    int n = data.remaining();
    if (n == 0) {
      return;
    }
    Deferred d = new Deferred();
    int discarded = 0;
    synchronized (lock) {
      if (terminalFailureState != null || finReceived) {
        return; // aborted or after FIN: nothing more is wanted (the transport treats data after FIN as an error)
      }
      if (readClosedLocally) {
        discarded = n;
      } else {
        inbound.add(data);
        inboundBytes += n;
        servePendingReadLocked(d);
      }
    }
    d.run();
    if (discarded > 0) {
      consumed(discarded);
    }
  }

  /** The peer ended its write direction (FIN): after the buffered bytes, reads return end-of-stream. */
  protected final void receiveFin() {
    Deferred d = new Deferred();
    synchronized (lock) {
      if (finReceived || terminalFailureState != null) {
        return;
      }
      finReceived = true;
      servePendingReadLocked(d);
      updateStateLocked(d);
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
      if (terminalFailureState != null || (writeClosed && finSent)) {
        return;
      }
      WriteClosedException error = new WriteClosedException(WriteClosedException.Reason.STOPPED_BY_PEER, code);
      writeClosed = true;
      writeClosedError = error;
      finQueued = false; // nothing more is sent; the protocol ends our send side (e.g. QUIC RESET_STREAM)
      failWritesLocked(d, error);
      if (closeWriteFuture != null && !closeWriteFuture.isDone()) {
        CompletableFuture<Void> f = closeWriteFuture;
        d.add(() -> f.completeExceptionally(error));
      }
      updateStateLocked(d);
    }
    d.run();
  }

  /**
   * The connection under the stream died, or the transport hit an unexpected error: the stream
   * becomes {@link StreamState#FAILED} (if not terminal already) and every pending operation fails.
   */
  protected final void fail(Throwable cause) {
    ConnectionFailedException error = cause instanceof ConnectionFailedException
        ? (ConnectionFailedException) cause
        : new ConnectionFailedException("the connection under the stream failed: " + cause, cause);
    abort(StreamState.FAILED, error, false);
  }

  /** Bytes received and buffered but not yet read. */
  protected final int bufferedInboundBytes() {
    synchronized (lock) {
      return inboundBytes;
    }
  }

  /** Whether writes or a FIN are still waiting to go out (a CLOSED stream may still be flushing). */
  final boolean hasPendingOutbound() {
    synchronized (lock) {
      return !outboundDead && (inFlight != null || !writeQueue.isEmpty() || (finQueued && !finSent));
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
      return bytesRead;
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
    CompletableFuture<Integer> result = new CompletableFuture<>();
    Deferred d = new Deferred();
    synchronized (lock) {
      if (pendingRead != null) {
        throw new ReadPendingException();
      }
      if (terminalFailureState != null) {
        IOException e = terminalError;
        d.add(() -> result.completeExceptionally(e));
      } else {
        pendingRead = new PendingRead(dst, result);
        servePendingReadLocked(d);
      }
    }
    d.run();
    return result;
  }

  @Override
  public final CompletableFuture<Void> write(ByteBuffer src) {
    Objects.requireNonNull(src, "src");
    PendingWrite w;
    synchronized (lock) {
      if (terminalFailureState != null) {
        return CompletableFuture.failedFuture(terminalError);
      }
      if (writeClosed) {
        return CompletableFuture.failedFuture(writeClosedError);
      }
      if (!src.hasRemaining()) {
        return CompletableFuture.completedFuture(null);
      }
      w = new PendingWrite(src);
      writeQueue.add(w);
      if (outboundBusy || inFlight != null || !opened) {
        return w.future; // the running pump, the in-flight completion, or opened() picks it up
      }
    }
    pumpOutbound();
    return w.future;
  }

  @Override
  public final CompletableFuture<Void> closeWrite() {
    Deferred d = new Deferred();
    CompletableFuture<Void> result;
    synchronized (lock) {
      if (closeWriteFuture != null) {
        return closeWriteFuture;
      }
      closeWriteFuture = new CompletableFuture<>();
      result = closeWriteFuture;
      if (terminalFailureState != null) {
        // Nothing to close gracefully any more; closeWrite is a no-op in a terminal state.
        d.add(() -> result.complete(null));
      } else if (writeClosed) {
        d.add(() -> result.complete(null)); // the peer already stopped our writes
      } else {
        writeClosed = true;
        writeClosedError = new WriteClosedException(WriteClosedException.Reason.CLOSED_LOCALLY, 0);
        finQueued = true;
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
      discarded = inboundBytes;
      inbound.clear();
      inboundBytes = 0;
      servePendingReadLocked(d);
      signal = !finReceived && connection.capabilities().contains(dev.braid.Capability.STOP_SENDING);
      if (signal) {
        stopSendingQueued = true;
        stopSendingCode = 0;
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
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  @Override
  public final void removeListener(StreamStateListener listener) {
    listeners.remove(listener);
  }

  @Override
  public final CompletableFuture<StreamState> terminated() {
    return terminated.copy();
  }

  @Override
  public final InputStream inputStream() {
    InputStream v = inputView;
    if (v == null) {
      synchronized (lock) {
        if (inputView == null) {
          inputView = new StreamInput();
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
          outputView = new StreamOutput();
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

  private void abort(StreamState target, IOException error, boolean localReset) {
    Deferred d = new Deferred();
    boolean send = false;
    synchronized (lock) {
      if (state.isTerminal()) {
        // A CLOSED stream may still be flushing writes made before close(); a failure or a peer reset
        // ends those. Our own reset() in a terminal state is a no-op (rule C5).
        if (!localReset) {
          failWritesLocked(d, error);
          failCloseWriteLocked(d, error);
          outboundDead = true;
          d.add(() -> connection.flushingEnded(this));
        }
      } else {
        terminalFailureState = target;
        terminalError = error;
        inbound.clear();
        inboundBytes = 0;
        failWritesLocked(d, error);
        failCloseWriteLocked(d, error);
        if (pendingRead != null) {
          CompletableFuture<Integer> f = pendingRead.future;
          pendingRead = null;
          d.add(() -> f.completeExceptionally(error));
        }
        if (localReset && !outboundDead) {
          resetQueued = true;
          resetCodeToSend = ((StreamResetException) error).code();
          send = true;
        } else {
          outboundDead = true;
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
    if (closeWriteFuture != null && !closeWriteFuture.isDone() && !finSent) {
      CompletableFuture<Void> f = closeWriteFuture;
      d.add(() -> f.completeExceptionally(error));
    }
  }

  private void failWritesLocked(Deferred d, IOException error) {
    List<CompletableFuture<Void>> failed = new ArrayList<>(writeQueue.size() + 1);
    if (inFlight != null) {
      failed.add(inFlight.future);
      inFlight = null;
    }
    for (PendingWrite w : writeQueue) {
      failed.add(w.future);
    }
    writeQueue.clear();
    if (!failed.isEmpty()) {
      d.add(() -> failed.forEach(f -> f.completeExceptionally(error)));
    }
  }

  private void servePendingReadLocked(Deferred d) {
    PendingRead r = pendingRead;
    if (r == null) {
      return;
    }
    if (inboundBytes > 0) {
      int copied = 0;
      while (r.dst.hasRemaining() && !inbound.isEmpty()) {
        ByteBuffer head = inbound.peek();
        int n = Math.min(head.remaining(), r.dst.remaining());
        if (n == head.remaining()) {
          r.dst.put(head);
          inbound.poll();
        } else {
          ByteBuffer slice = head.duplicate();
          slice.limit(slice.position() + n);
          r.dst.put(slice);
          head.position(head.position() + n);
        }
        copied += n;
      }
      inboundBytes -= copied;
      bytesRead += copied;
      pendingRead = null;
      int n = copied;
      d.add(() -> {
        r.future.complete(n);
        consumed(n);
      });
    } else if (finReceived || readClosedLocally) {
      pendingRead = null;
      d.add(() -> r.future.complete(-1));
    }
  }

  /** Moves outbound work to the transport, one call at a time, never under the lock. */
  private void pumpOutbound() {
    while (true) {
      int action;
      PendingWrite w = null;
      long code = 0;
      synchronized (lock) {
        if (outboundBusy || outboundDead) {
          return;
        }
        if (resetQueued) {
          resetQueued = false;
          outboundDead = true;
          code = resetCodeToSend;
          action = 3;
        } else if (!opened) {
          return;
        } else if (stopSendingQueued) {
          stopSendingQueued = false;
          code = stopSendingCode;
          action = 2;
        } else if (inFlight == null && !writeQueue.isEmpty()) {
          w = writeQueue.poll();
          inFlight = w;
          action = 0;
        } else if (inFlight == null && finQueued && !finSent) {
          finSent = true;
          action = 1;
        } else {
          return;
        }
        outboundBusy = true;
      }
      try {
        switch (action) {
          case 0:
            transmitOne(w);
            break;
          case 1:
            transmitFin();
            completeCloseWrite();
            connection.flushingEnded(this);
            break;
          case 2:
            transmitStopSending(code);
            break;
          default:
            transmitReset(code);
            break;
        }
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "transport failed to send on stream " + this, e);
        synchronized (lock) {
          outboundBusy = false;
        }
        fail(e);
        return;
      }
      synchronized (lock) {
        outboundBusy = false;
      }
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

  private void transmitOne(PendingWrite w) {
    int n = w.data.remaining();
    CompletableFuture<Void> sent = transmit(w.data);
    sent.whenComplete((ok, err) -> {
      boolean mine;
      synchronized (lock) {
        mine = inFlight == w;
        if (mine) {
          inFlight = null;
          if (err == null) {
            bytesWritten += n;
          }
        }
      }
      if (!mine) {
        return; // already failed by a reset or failure; the transport abandoned it
      }
      if (err == null) {
        w.future.complete(null);
        pumpOutbound();
      } else {
        Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
            ? err.getCause() : err;
        fail(cause);
        w.future.completeExceptionally(failureFor(cause));
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
    long read = bytesRead;
    long written = bytesWritten;
    // Enqueued under the lock so that listeners see transitions in order; the serial executor runs
    // no user code on this thread.
    if (next == StreamState.CLOSED && (inFlight != null || !writeQueue.isEmpty() || (finQueued && !finSent))) {
      d.add(() -> connection.flushingStarted(this)); // writes made before close() still going out
    }
    if (!listeners.isEmpty()) {
      events.execute(() -> deliver(from, next)); // terminated() completes after the listeners saw it
    } else if (next.isTerminal()) {
      d.add(() -> terminated.complete(next)); // no listener: no event-thread hop (10,000 streams closing at once)
    }
    d.add(() -> record(from, next, read, written));
  }

  private void record(StreamState from, StreamState to, long read, long written) {
    if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: {1} -> {2}", this, from, to);
    }
    StreamEvents.Transition t = new StreamEvents.Transition();
    if (t.isEnabled()) {
      t.transport = connection.transportId();
      t.connection = connection.connectionId();
      t.stream = id;
      t.from = from.name();
      t.to = to.name();
      t.commit();
    }
    if (to.isTerminal()) {
      lifetimeEvent.end();
      if (lifetimeEvent.shouldCommit()) {
        lifetimeEvent.transport = connection.transportId();
        lifetimeEvent.connection = connection.connectionId();
        lifetimeEvent.stream = id;
        lifetimeEvent.state = to.name();
        lifetimeEvent.bytesRead = read;
        lifetimeEvent.bytesWritten = written;
        lifetimeEvent.commit();
      }
      connection.streamTerminated(this);
      try {
        onTerminated(to);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "transport cleanup failed for stream " + this, e);
      }
    }
  }

  private void deliver(StreamState from, StreamState to) {
    for (StreamStateListener l : listeners) {
      try {
        l.onStateChange(this, from, to);
      } catch (RuntimeException | Error e) {
        LOG.log(System.Logger.Level.WARNING, "stream listener threw on " + this + " (" + from + " -> " + to
            + "); the stream is unaffected", e);
      }
    }
    if (to.isTerminal()) {
      terminated.complete(to);
    }
  }

  private static final class PendingRead {
    final ByteBuffer dst;
    final CompletableFuture<Integer> future;

    PendingRead(ByteBuffer dst, CompletableFuture<Integer> future) {
      this.dst = dst;
      this.future = future;
    }
  }

  private static final class PendingWrite {
    final ByteBuffer data;
    final CompletableFuture<Void> future = new CompletableFuture<>();

    PendingWrite(ByteBuffer data) {
      this.data = data;
    }
  }

  /** Actions collected under the lock and run after it is released. */
  private static final class Deferred {
    private List<Runnable> actions;

    void add(Runnable r) {
      if (actions == null) {
        actions = new ArrayList<>(2);
      }
      actions.add(r);
    }

    void run() {
      if (actions != null) {
        for (Runnable r : actions) {
          r.run();
        }
      }
    }
  }

  // ---------------------------------------------------------------- blocking views

  private boolean cancelRead(CompletableFuture<Integer> f) {
    synchronized (lock) {
      if (pendingRead != null && pendingRead.future == f) {
        pendingRead = null;
        return true;
      }
      return false;
    }
  }

  static <T> T await(CompletableFuture<T> f) throws IOException, InterruptedException {
    try {
      return f.get();
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof IOException) {
        throw (IOException) c;
      }
      if (c instanceof RuntimeException) {
        throw (RuntimeException) c;
      }
      throw new IOException(c);
    }
  }

  private final class StreamInput extends InputStream {
    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public synchronized int read(byte[] b, int off, int len) throws IOException {
      Objects.checkFromIndexSize(off, len, b.length);
      if (len == 0) {
        return 0;
      }
      CompletableFuture<Integer> f = AbstractMuxedStream.this.read(ByteBuffer.wrap(b, off, len));
      try {
        return await(f);
      } catch (InterruptedException e) {
        if (cancelRead(f)) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while reading " + AbstractMuxedStream.this);
        }
        // The read completed while we were interrupted: return its result, keep the flag.
        try {
          return f.join();
        } catch (java.util.concurrent.CompletionException ce) {
          Throwable c = ce.getCause();
          throw c instanceof IOException ? (IOException) c : new IOException(c);
        } finally {
          Thread.currentThread().interrupt();
        }
      }
    }

    @Override
    public int available() {
      return bufferedInboundBytes();
    }

    @Override
    public void close() {
      closeRead();
    }
  }

  private final class StreamOutput extends OutputStream {
    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
      Objects.checkFromIndexSize(off, len, b.length);
      if (len == 0) {
        return;
      }
      waitFor(AbstractMuxedStream.this.write(ByteBuffer.wrap(b, off, len)), "writing");
    }

    @Override
    public void close() throws IOException {
      waitFor(closeWrite(), "closing the write direction of");
    }

    private void waitFor(CompletableFuture<Void> f, String what) throws IOException {
      try {
        await(f);
      } catch (InterruptedException e) {
        // As with java.nio's interruptible channels: the stream's state is unknown now, so it is aborted.
        reset(0);
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while " + what + " " + AbstractMuxedStream.this
            + "; the stream was reset");
      }
    }
  }
}
