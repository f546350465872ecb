package dev.braid.transport.tcp.internal;

import dev.braid.ConnectionFailedException;
import dev.braid.ProtocolException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * The yamux wire state of one stream: its windows both ways, the transmit parked until the peer grants
 * credit, which of FIN and RST crossed the wire, and whether the session still knows the stream. It is the
 * one owner of that state; the session's classes change it only through these methods.
 *
 * <p><b>Thread safety.</b> Which thread touches what:
 * <ul>
 *   <li>{@code sendWindow}: grown by the event loop (window updates), reserved by whichever thread sends: the
 *       event loop's drain or an application thread's fast path, never both at once (the stream hands the
 *       transport one transmit at a time). Atomic.</li>
 *   <li>{@code queuedOps}: any thread (see {@link SessionIo#runOrdered}). Atomic.</li>
 *   <li>{@code fastPathOpen}: cleared by the event loop once the stream left the session, read by any thread
 *       (volatile).</li>
 *   <li>{@code credit}: added to by any thread (the application consumed bytes), taken by the event loop.
 *       Atomic.</li>
 *   <li>{@code updateQueued}: claimed by any thread that finds half the window consumed, cleared by the event
 *       loop's update task. Atomic.</li>
 *   <li>{@code window}: grown by the event loop (auto-tuning), read by any thread (volatile).</li>
 *   <li>everything else: the event loop only.</li>
 * </ul>
 */
final class StreamWire {
  private final long id;
  // The atomics are VarHandles on plain fields: four Atomic* objects cost about 80 bytes per stream.
  private static final VarHandle SEND_WINDOW;
  private static final VarHandle QUEUED_OPS;
  private static final VarHandle CREDIT;
  private static final VarHandle UPDATE_QUEUED;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      SEND_WINDOW = l.findVarHandle(StreamWire.class, "sendWindow", long.class);
      QUEUED_OPS = l.findVarHandle(StreamWire.class, "queuedOps", int.class);
      CREDIT = l.findVarHandle(StreamWire.class, "credit", long.class);
      UPDATE_QUEUED = l.findVarHandle(StreamWire.class, "updateQueued", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private volatile long sendWindow = YamuxFrame.INITIAL_WINDOW;
  /**
   * This stream's outbound operations (data, FIN, RST, its removal) handed to the event loop's task queue and not
   * yet run there; while any are queued, later ones queue behind them instead of running inline on the loop.
   */
  private volatile int queuedOps;
  /** Cleared once the stream left the session: no more fast-path sends. */
  private volatile boolean fastPathOpen = true;
  /** Bytes the application consumed that we have not granted back yet. */
  private volatile long credit;
  private final WindowTuner tuner;
  /** A window update task is queued on the event loop and has not taken the credit yet. */
  private volatile boolean updateQueued;
  /** The stream's receive window: the base window, grown by auto-tuning. Written by the event loop. */
  private volatile long window;

  // Event loop only.
  private volatile long recvWindow; // written by the event loop only; volatile for receivable()
  private long epochStart; // when our previous window update went out (System.nanoTime)
  private long grown; // the window's growth, taken from the tuner's budget
  private ByteBuffer sendBuf; // the rest of a transmit waiting for window or writability
  private CompletableFuture<Void> sendFuture;
  private boolean ready; // in the flow control's ready queue
  private boolean finSent;
  private boolean finReceived;
  private boolean removed;

  StreamWire(long id, WindowTuner tuner) {
    this.id = id;
    this.tuner = tuner;
    this.window = tuner.baseWindow();
    this.recvWindow = window;
    this.epochStart = System.nanoTime();
  }

  long id() {
    return id;
  }

  // ---------------------------------------------------------------- ordering (any thread)

  void opQueued() {
    QUEUED_OPS.getAndAdd(this, 1);
  }

  void opDequeued() {
    QUEUED_OPS.getAndAdd(this, -1);
  }

  boolean hasQueuedOps() {
    return queuedOps != 0;
  }

  // ---------------------------------------------------------------- sending

  /** Any thread: reserves {@code n} bytes of the peer's window for the fast path, if the stream is live. */
  boolean tryReserve(int n) {
    if (!fastPathOpen) {
      return false;
    }
    while (true) {
      long w = sendWindow;
      if (w < n) {
        return false;
      }
      if (SEND_WINDOW.compareAndSet(this, w, w - n)) {
        return true;
      }
    }
  }

  /** The peer's window for us. */
  long sendWindow() {
    return sendWindow;
  }

  /** The peer granted {@code delta} more bytes; returns the window. */
  long grow(long delta) throws ProtocolException {
    long before = sendWindow;
    if (before + delta > YamuxFrame.MAX_UINT32) {
      throw new ProtocolException("yamux: a window update of " + delta + " bytes on stream " + id
          + " overflows the send window (" + before + " bytes already)");
    }
    return (long) SEND_WINDOW.getAndAdd(this, delta) + delta;
  }

  /**
   * Parks a transmit until window and writability allow; false (and the future failed) once the stream left
   * the session.
   */
  boolean park(ByteBuffer data, CompletableFuture<Void> future) {
    if (removed) {
      future.completeExceptionally(new ConnectionFailedException("stream " + id + " has ended on the wire", null));
      return false;
    }
    sendBuf = data.duplicate();
    sendFuture = future;
    return true;
  }

  /** The rest of the parked transmit, or null. */
  ByteBuffer parked() {
    return removed ? null : sendBuf;
  }

  /**
   * {@code n} bytes of the parked transmit were written. Returns its future once the last byte went (the
   * caller completes it: that may transmit again on this stream), else null.
   */
  CompletableFuture<Void> sent(int n) {
    sendBuf.position(sendBuf.position() + n);
    SEND_WINDOW.getAndAdd(this, (long) -n);
    if (sendBuf.hasRemaining()) {
      return null;
    }
    CompletableFuture<Void> f = sendFuture;
    sendBuf = null;
    sendFuture = null;
    return f;
  }

  /** Whether a transmit is parked and the peer's window has room: it belongs in the ready queue. */
  boolean canSend() {
    return !removed && sendBuf != null && sendWindow > 0;
  }

  /** Marks the stream as in the ready queue; false if it already is. */
  boolean enqueue() {
    if (ready) {
      return false;
    }
    ready = true;
    return true;
  }

  void dequeued() {
    ready = false;
  }

  /** Marks our FIN as written; false if the stream left the session or the FIN went already. */
  boolean sendFin() {
    if (removed || finSent) {
      return false;
    }
    finSent = true;
    return true;
  }

  /** Whether everything written before our FIN, and the FIN, are on the wire (a graceful close may proceed). */
  boolean flushed() {
    return sendBuf == null && finSent;
  }

  // ---------------------------------------------------------------- receiving

  /** {@code n} bytes arrived: they must fit the window we granted and come before the peer's FIN. */
  void receive(long n) throws ProtocolException {
    if (finReceived) {
      throw new ProtocolException("yamux: the peer sent " + n + " bytes on stream " + id + " after its FIN");
    }
    if (n > recvWindow) {
      throw new ProtocolException("yamux: the peer sent " + n + " bytes on stream " + id
          + ", beyond its receive window (" + recvWindow + " bytes left)");
    }
    recvWindow -= n;
  }

  /** The peer's FIN arrived; false if it had already. */
  boolean receiveFin() {
    if (finReceived) {
      return false;
    }
    finReceived = true;
    return true;
  }

  /** Any thread: the stream's receive window now (grown by auto-tuning, never shrunk). */
  long window() {
    return window;
  }

  /** Any thread: how many more bytes the peer may send now (what we granted minus what arrived). */
  long receivable() {
    return recvWindow;
  }

  /** Any thread: claims the one queued window update; false if one is queued already. */
  boolean queueUpdate() {
    return UPDATE_QUEUED.compareAndSet(this, false, true);
  }

  /** Any thread: the application consumed {@code bytes}; returns the credit not yet granted back. */
  long addCredit(int bytes) {
    return (long) CREDIT.getAndAdd(this, (long) bytes) + bytes;
  }

  /**
   * Takes the credit to grant back in a window update going out at {@code now}, plus the window's growth if the
   * tuner grants it ({@link WindowTuner#growth}); 0 when there is nothing to grant (or no point: the peer sent its
   * FIN, or the stream left the session).
   */
  long takeCredit(long now) {
    updateQueued = false;
    long delta = (long) CREDIT.getAndSet(this, 0L);
    if (removed || finReceived || delta <= 0) {
      return 0;
    }
    long grow = tuner.growth(window, epochStart, now);
    epochStart = now;
    if (grow > 0) {
      grown += grow;
      window += grow;
    }
    recvWindow += delta + grow;
    return delta + grow;
  }

  // ---------------------------------------------------------------- end on the wire

  /** Whether both FINs crossed the wire: for yamux the stream is gone. */
  boolean bothFins() {
    return finSent && finReceived;
  }

  boolean isRemoved() {
    return removed;
  }

  /**
   * The stream left the session: no more frames for it. A parked transmit is abandoned (the stream already
   * failed it, or failing it fails the stream). Returns false if it had left already.
   */
  boolean remove() {
    if (removed) {
      return false;
    }
    removed = true;
    fastPathOpen = false;
    tuner.release(grown); // nothing more is received: the growth goes back to the session's budget
    grown = 0;
    CompletableFuture<Void> f = sendFuture;
    sendBuf = null;
    sendFuture = null;
    if (f != null) {
      f.completeExceptionally(new ConnectionFailedException("stream " + id + " ended before its bytes were sent",
          null));
    }
    return true;
  }
}
