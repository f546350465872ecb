package dev.braid.transport.quic.internal;

import dev.braid.ConnectionFailedException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import tech.kwik.core.QuicStream;

/**
 * The sending part of one {@link QuicMuxedStream}: Braid's writes go into kwik's send buffer only as far as it has room
 * (bytes written minus the highest offset kwik has sent, seen through the tap), so no thread ever blocks in kwik's
 * {@code SendBuffer.write}; the tap wakes the send pump when kwik has put a third of the buffer on the wire. The FIN and
 * resets go to kwik with the workarounds of {@link Kwik0108} (the stall check, resets on kwik's sender thread, our own
 * RESET_STREAM where kwik's is a no-op).
 *
 * <p><b>Threads.</b> {@link #transmit}, {@link #fin} and {@link #reset} are Braid's outbound hooks (called one at a
 * time); {@link #drain} is the body of the stream's send pump; {@link #onKwikSent} runs on kwik's sender thread (the
 * tap); a reset completes on kwik's sender thread or the timer. Shared fields are volatile.
 */
final class StreamOutput implements Kwik0108.StallCheck.Watched {
  /** How kwik's sending part ends; written by the hooks, then by the reset's completion. */
  enum End {
    /** Writing. */
    OPEN,
    /** FIN queued after every byte written ({@code close()}); kwik may still hold some of them. */
    FIN_QUEUED,
    /** A reset is on its way to kwik (its sender thread, or our own RESET_STREAM waiting for the final size). */
    RESETTING,
    /** kwik's RESET_STREAM, or ours, is queued: nothing more is sent. */
    RESET
  }

  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic");
  private static final int MAX_WRITE = 16 * 1024;
  private static final int WAKE_ROOM = Kwik0108.SEND_BUFFER / 3;

  private final QuicMuxedStream stream;
  private final QuicConnection quic;
  private final QuicStream kwik;
  private final OutputStream out;
  private final StreamSignals sig;
  private final SerialPump pump;
  private final Kwik0108.StallCheck stall;
  private Tx pending; // guarded by this: the transmission Braid awaits (the class is not visible outside the package)
  private volatile long written; // send pump: bytes handed to kwik
  private volatile boolean waiting; // set by the send pump when kwik's buffer is full, cleared by the tap's wake-up
  private volatile End end = End.OPEN;
  private final boolean lockedBuffer;

  /** One transmission: its bytes and the future Braid's core awaits. */
  private record Tx(ByteBuffer data, CompletableFuture<Void> future) {}

  StreamOutput(QuicMuxedStream stream, QuicConnection quic, QuicStream kwik, StreamSignals sig) {
    this.stream = stream;
    this.quic = quic;
    this.kwik = kwik;
    this.lockedBuffer = LockedSendBuffer.install(kwik); // before the first write (Kwik0108 section 5)
    this.out = kwik.getOutputStream();
    this.sig = sig;
    this.pump = new SerialPump(quic.transport().io(), "send", this::drain);
    this.stall = new Kwik0108.StallCheck(this, out, sig.streamId, quic.kwik(), quic.transport().scheduler());
  }

  /**
   * Writes Braid's stream preamble ({@link QuicMuxedStream#PREAMBLE}, one byte) into kwik's send buffer: the opener
   * calls it once, right after kwik created the stream and before {@code openStream()} completes, so before any hook
   * can run and before any application byte, the FIN or a reset of ours. It is stream data to kwik (sent, flow
   * controlled and retransmitted like any byte, and counted in {@code written}, so that the room, the stall check and
   * the final size of a reset after FIN all include it) but never to Braid's core, which does not know of it.
   *
   * @throws IOException if kwik refuses the write (the connection ended meanwhile)
   */
  void writePreamble() throws IOException {
    out.write(new byte[] {QuicMuxedStream.PREAMBLE}, 0, 1); // never blocks: kwik's buffer is empty
    written = 1;
    stall.arm(); // kwik holds an unsent byte: the stall check (Kwik0108 section 4) watches it leave
  }

  CompletableFuture<Void> transmit(ByteBuffer data) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    synchronized (this) {
      pending = new Tx(data, f);
    }
    pump.poke();
    return f;
  }

  void poke() {
    pump.poke();
  }

  /** kwik put more of the stream on the wire: wake a waiting writer once a third of kwik's send buffer is free. */
  void onKwikSent() {
    // Not on every packet: fewer, larger writes. (Safe: while less is free, kwik holds unsent bytes and reports more.)
    if (waiting && room() >= WAKE_ROOM) {
      waiting = false;
      pump.poke();
    }
  }

  private long room() {
    return Kwik0108.SEND_BUFFER - (written - sig.sentUpTo);
  }

  private void drain() {
    Tx p;
    synchronized (this) {
      p = pending;
    }
    if (p == null) {
      return;
    }
    if (resetting() || sig.rxStopSendingCode >= 0) {
      if (sig.rxStopSendingCode >= 0) {
        stream.peerStoppedSending();
      }
      clear(p); // abandoned: Braid no longer awaits this transmission
      return;
    }
    ByteBuffer data = p.data();
    while (data.hasRemaining()) {
      long room = room();
      if (room <= 0) {
        waiting = true;
        if (room() <= 0) {
          stall.arm(); // kwik may have stranded its buffer; then nothing would ever wake us
          return; // the tap wakes us when kwik has put more of the buffer on the wire
        }
        waiting = false;
        continue;
      }
      int n = (int) Math.min(Math.min(room, data.remaining()), MAX_WRITE);
      try {
        if (data.hasArray()) {
          out.write(data.array(), data.arrayOffset() + data.position(), n);
          data.position(data.position() + n);
        } else {
          byte[] copy = new byte[n];
          data.get(copy);
          out.write(copy, 0, n);
        }
      } catch (IOException e) {
        clear(p);
        writeFailed(p, e);
        return;
      }
      written += n;
    }
    clear(p);
    stall.arm();
    p.future().complete(null);
  }

  private void writeFailed(Tx p, IOException e) {
    if (sig.rxStopSendingCode >= 0) {
      // kwik reset our output because the peer sent STOP_SENDING. If the peer reset the stream too, the write is
      // abandoned: the reset fails it (see QuicMuxedStream.peerStoppedSending).
      if (stream.peerStoppedSending()) {
        p.future().completeExceptionally(e);
      }
    } else if (resetting()) {
      p.future().completeExceptionally(e);
    } else {
      ConnectionFailedException cause = quic.failure();
      p.future().completeExceptionally(cause != null ? cause
          : new ConnectionFailedException("kwik failed writing stream " + sig.streamId + ": " + e.getMessage(), e));
    }
  }

  private synchronized void clear(Tx p) {
    if (pending == p) {
      pending = null;
    }
  }

  /** Queues the FIN after every byte written: kwik's {@code close()}, which never blocks. */
  void fin() {
    end = End.FIN_QUEUED;
    try {
      out.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: kwik refused FIN: {1}", stream, e.toString());
    }
    stall.arm();
  }

  /**
   * Resets kwik's sending part with {@code code} (RESET_STREAM), then stops reading with the same code (STOP_SENDING):
   * in that order, or a peer that has closed its read side would take the STOP_SENDING for a plain "stop writing" and
   * end CLOSED before our reset code arrives.
   */
  void reset(long code) {
    boolean finQueued = end == End.FIN_QUEUED;
    end = End.RESETTING;
    if (sig.rxStopSendingCode < 0 && !finQueued) {
      Kwik0108.onSenderThread(quic.kwik(), () -> {
        if (sig.rxStopSendingCode < 0) {
          kwik.resetStream(code); // RESET_STREAM; drops what kwik still buffers
          resetQueued(code);
        } else { // the peer's STOP_SENDING came meanwhile: kwik answered it with the peer's code
          Kwik0108.resetAfterFin(quic, sig, code, -1, () -> resetQueued(code));
        }
      });
    } else {
      Kwik0108.resetAfterFin(quic, sig, code, finQueued ? written : -1, () -> resetQueued(code));
    }
    pump.poke();
  }

  private void resetQueued(long code) {
    end = End.RESET;
    stream.resetQueued(code);
  }

  /** Whether our reset is on its way to kwik or queued. */
  boolean resetting() {
    End e = end;
    return e == End.RESETTING || e == End.RESET;
  }

  /** Whether kwik's sending part has ended or is ending (FIN queued, reset, or stopped by the peer). */
  boolean ended() {
    return end != End.OPEN || sig.rxStopSendingCode >= 0;
  }

  /**
   * Whether nothing of kwik's sending part needs the tap any more: our RESET_STREAM (or kwik's) is queued, kwik answered
   * the peer's STOP_SENDING, or every byte and the FIN have left at least once.
   */
  boolean settled() {
    End e = end;
    return e == End.RESET || (e != End.RESETTING && (sig.rxStopSendingCode >= 0 || (e == End.FIN_QUEUED && !unsent())));
  }

  @Override
  public boolean unsent() {
    return written > sig.sentUpTo || (end == End.FIN_QUEUED && !sig.finSent);
  }

  @Override
  public boolean abandoned() {
    return resetting() || sig.rxStopSendingCode >= 0 || !quic.isOpen();
  }

  @Override
  public long sentUpTo() {
    return sig.sentUpTo;
  }

  /** Whether kwik's send buffer of this stream is a {@link LockedSendBuffer}. */
  boolean lockedBuffer() {
    return lockedBuffer;
  }

  String describe() {
    return "written=" + written + " sentUpTo=" + sig.sentUpTo + " end=" + end + " finSent=" + sig.finSent
        + " txWaiting=" + waiting + " kicks=" + stall.kicks();
  }
}
