package dev.braid.conformance.reference;

import dev.braid.ConnectionFailedException;
import dev.braid.ProtocolException;
import dev.braid.StreamState;
import dev.braid.StreamStateListener;
import dev.braid.conformance.reference.MemConnection.Frame;
import dev.braid.spi.AbstractMuxedStream;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * A stream of the reference transport. Credit-based flow control: the sender may have at most the
 * receiver's window in flight; the receiver returns credit as the application consumes bytes.
 *
 * <p>State mapping: OPEN frame sent → OPENING; ACK → OPEN; FIN → READ_CLOSED at the peer; RST → RESET;
 * STOP → WRITE_CLOSED at the peer, which answers SEND_ENDED; GOAWAY / ABORT → FAILED.
 *
 * <p><b>Thread safety.</b> Thread-safe; {@code txLock} guards the send side, inbound frames arrive in
 * order on the connection's inbox.
 */
final class MemMuxedStream extends AbstractMuxedStream {
  private static final int CHUNK = 16 * 1024;

  private final MemConnection conn;
  private final Object txLock = new Object();
  private long sendCredit; // guarded by txLock
  private ByteBuffer pending; // guarded by txLock
  private CompletableFuture<Void> pendingFuture; // guarded by txLock
  private boolean sendEnded; // guarded by txLock: FIN or RST sent, or the peer stopped us
  private long receiveAllowance; // only touched on the inbox thread and in consumed()

  MemMuxedStream(MemConnection conn, long id, boolean local, StreamStateListener listener) {
    super(conn, id, local, local, listener);
    this.conn = conn;
    this.sendCredit = conn.options().receiveWindow();
    this.receiveAllowance = conn.options().receiveWindow();
  }

  private boolean unbounded() {
    return conn.breakage() == Breakage.UNBOUNDED_BUFFERING;
  }

  // ------------------------------------------------------------ outbound

  @Override
  protected CompletableFuture<Void> transmit(ByteBuffer data) {
    byte[] copy = new byte[data.remaining()];
    data.get(copy);
    CompletableFuture<Void> f = new CompletableFuture<>();
    synchronized (txLock) {
      pending = ByteBuffer.wrap(copy);
      pendingFuture = f;
    }
    if (conn.breakage() == Breakage.EOF_BEFORE_DATA) {
      // Claims acceptance before the bytes left, and leaves them for the next credit: always behind closeWrite's FIN
      // and the next write. (Flushing here let a fast reader's credit send every byte in time now and then, and D2
      // passed against this breakage once in the cross-implementation self-test.)
      f.complete(null);
      return f;
    }
    flush();
    return f;
  }

  /** Sends as much of the pending write as the peer's credit allows. */
  private void flush() {
    CompletableFuture<Void> done = null;
    synchronized (txLock) {
      while (pending != null && !sendEnded && (sendCredit > 0 || unbounded())) {
        int n = (int) Math.min(pending.remaining(), unbounded() ? CHUNK : Math.min(CHUNK, sendCredit));
        byte[] chunk = new byte[n];
        pending.get(chunk);
        sendCredit -= n;
        conn.post(new Frame(Frame.DATA, id(), 0, chunk));
        dataSent = true;
        if (!pending.hasRemaining()) {
          pending = null;
          done = pendingFuture;
          pendingFuture = null;
        }
      }
    }
    if (done != null) {
      done.complete(null);
    }
  }

  /** For {@link Breakage#STATE_CHECKED_OUTSIDE_LOCK}: sends bytes straight to the wire, bypassing the lifecycle. */
  void sendRaw(ByteBuffer data) {
    byte[] copy = new byte[data.remaining()];
    data.get(copy);
    conn.post(new Frame(Frame.DATA, id(), 0, copy));
  }

  @Override
  protected void transmitFin() {
    synchronized (txLock) {
      if (sendEnded) {
        return;
      }
      sendEnded = conn.breakage() != Breakage.EOF_BEFORE_DATA; // the broken one keeps sending after FIN
    }
    Frame fin = new Frame(Frame.FIN, id(), 0, null);
    if (conn.breakage() == Breakage.FIN_OVERTAKES_QUEUED_DATA && id() >= 400 && (id() / 2) % 16 == 7) {
      conn.postOvertaking(fin);
    } else if (conn.breakage() == Breakage.FIN_DROPPED) {
      // the broken transport forgets to send it
    } else if (conn.breakage() == Breakage.FIN_DROPPED_AFTER_ANSWER && dataSent && peerFinArrived
        && (id() / 2) % 8 == 5) {
      // quiche's way: the stream is forgotten once its data is acknowledged, the FIN still unsent
    } else if (conn.breakage() == Breakage.FIN_LOST_WHEN_RESET_RACES) {
      conn.postLater(fin, () -> resetRequested);
    } else {
      conn.post(fin);
    }
    finPosted = true;
  }

  /** For {@link Breakage#FIN_DROPPED_AFTER_ANSWER}: this end sent data; the peer's FIN arrived. */
  private volatile boolean dataSent;
  private volatile boolean peerFinArrived;
  /** For {@link Breakage#FIN_LOST_WHEN_RESET_RACES}: reset() was called on this stream (even as a no-op). */
  volatile boolean resetRequested;
  private volatile boolean finPosted;

  @Override
  protected void transmitReset(long code) {
    synchronized (txLock) {
      sendEnded = true;
      pending = null;
      pendingFuture = null; // abandoned: the lifecycle failed it already
    }
    long sent = conn.breakage() == Breakage.RESET_CODE_DROPPED ? 0 : code;
    if (!(conn.breakage() == Breakage.RESET_AFTER_FIN_NOT_SENT && finPosted)) {
      conn.post(new Frame(Frame.RST, id(), sent, null));
    }
  }

  @Override
  protected void transmitStopSending(long code) {
    conn.post(new Frame(Frame.STOP, id(), code, null));
  }

  @Override
  protected void consumed(int bytes) {
    if (unbounded()) {
      return;
    }
    conn.inbox.execute(() -> receiveAllowance += bytes);
    conn.post(new Frame(Frame.CREDIT, id(), bytes, null));
  }

  @Override
  protected void onTerminated(StreamState finalState) {
    if (finalState == StreamState.RESET || finalState == StreamState.FAILED) {
      synchronized (txLock) {
        sendEnded = true;
        pending = null;
        pendingFuture = null;
      }
    }
  }

  /** Finished on the wire (the base class decides when): the connection drops its wire entry. */
  @Override
  protected void onFinished() {
    conn.forget(this);
  }

  // ------------------------------------------------------------ inbound (connection inbox, in order)

  void ackReceived() {
    opened();
  }

  void refused() {
    receiveReset(dev.braid.StreamResetException.REFUSED); // StreamRefusedException, remote
  }

  void refuseInbound() {
    refuse("refused stream " + id() + ": the accept backlog is full");
  }

  void connectionEnded(ConnectionFailedException cause) {
    fail(cause);
  }

  void onFrame(Frame f) throws ProtocolException {
    switch (f.type) {
      case Frame.DATA:
        if (!unbounded()) {
          if (f.data.length > receiveAllowance) {
            throw new ProtocolException("mem: stream " + id() + " received " + f.data.length
                + " bytes with only " + receiveAllowance + " of window left");
          }
          receiveAllowance -= f.data.length;
        }
        if (conn.breakage() == Breakage.LOCKS_THE_STREAM_OBJECT) {
          synchronized (this) { // the defect: a monitor the application can hold
            receive(ByteBuffer.wrap(f.data));
          }
        } else {
          receive(ByteBuffer.wrap(f.data));
        }
        return;
      case Frame.FIN:
        peerFinArrived = true;
        receiveFin();
        return;
      case Frame.RST:
        synchronized (txLock) {
          sendEnded = true;
          pending = null;
          pendingFuture = null;
        }
        if (conn.breakage() == Breakage.RESET_AS_FIN) {
          receiveFin();
        } else {
          receiveReset(f.value);
        }
        return;
      case Frame.STOP:
        synchronized (txLock) {
          boolean already = sendEnded;
          sendEnded = true;
          pending = null;
          pendingFuture = null;
          if (!already) {
            conn.post(new Frame(Frame.SEND_ENDED, id(), f.value, null));
          }
        }
        receiveStopSending(f.value);
        return;
      case Frame.SEND_ENDED:
        receiveEndOfInput(); // the peer's answer to our STOP: nothing more arrives
        return;
      case Frame.CREDIT:
        synchronized (txLock) {
          sendCredit += f.value;
        }
        flush();
        return;
      default:
        throw new ProtocolException("mem: unknown frame type " + f.type);
    }
  }
}
