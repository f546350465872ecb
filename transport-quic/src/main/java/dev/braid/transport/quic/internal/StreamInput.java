package dev.braid.transport.quic.internal;

import dev.braid.ConnectionFailedException;
import dev.braid.ProtocolException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The receiving part of one {@link QuicMuxedStream}: moves bytes from kwik's stream into Braid's receive buffer, and
 * reports the peer's FIN, RESET_STREAM and STOP_SENDING, in its own {@link SerialPump} on the transport's I/O pool,
 * poked by the tap when a frame for the stream is parsed. It reads only what {@code available()} reports, so it never
 * blocks, and only while Braid's buffer is below the receive window.
 *
 * <p><b>Drop mode.</b> Once Braid reads no more ({@code closeRead()}, a reset, the stream finished), {@link #stopReading}
 * queues STOP_SENDING (unless the peer's FIN or RESET_STREAM is known) and the pump reads and drops what kwik still
 * receives until kwik's input ends, so that its connection-level credit comes back ({@link Kwik0108#stopSending}).
 * kwik's input ending there is the peer's sending part ending: its FIN ({@code receiveFin()}), or its RESET_STREAM
 * answering our STOP_SENDING ({@code receiveEndOfInput()}). Neither changes the state after {@code closeRead()}; both
 * tell the base class that nothing more is expected from the peer.
 *
 * <p><b>The preamble.</b> On a stream the peer opened, the first byte is Braid's stream preamble
 * ({@link QuicMuxedStream#PREAMBLE}): the pump reads it off before it hands anything to Braid's core, so it is never
 * delivered, never counted in {@code bytesRead} and never held in Braid's receive buffer (kwik credits it as read, like
 * any byte). Another first byte, or the peer's FIN before any byte, means a peer that does not speak this mapping: the
 * stream fails with a {@link ProtocolException} naming it (Braid's core then resets it with {@code INTERNAL_ERROR}) and
 * nothing of it is delivered. A reset by the peer is handled before the preamble is looked at, so a stream reset
 * before its first byte arrived (final size 0) or was read (final size 1) is an ordinary reset. In drop mode nothing is
 * delivered anyway, and the preamble is dropped with the rest unchecked.
 *
 * <p><b>Threads.</b> {@link #drain} is the pump's body: fields marked "pump" are touched only there.
 * {@link #stopReading} runs on any thread (Braid's hooks, kwik's sender thread); the end-of-stream read runs on the
 * blocking pool. Fields shared with them are atomic or volatile.
 */
final class StreamInput {
  /**
   * The STOP_SENDING code of {@code closeRead()}: 2^32, just above Braid's 32-bit reset codes, so that the RESET_STREAM a
   * peer sends back in answer (copying the code, RFC 9000 §3.5) is told apart from a reset by the peer's application. A
   * receiver reports STOP_SENDING codes above 2^32 - 1 with 2^32 subtracted.
   */
  static final long CLOSE_READ_CODE = 1L << 32;
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic");
  private static final int MAX_CHUNK = 64 * 1024;

  private final QuicMuxedStream stream;
  private final QuicConnection quic;
  private final InputStream in;
  private final StreamSignals sig;
  private final SerialPump pump;
  private final Kwik0108.GuardedRead reads;
  private final int window;

  private long consumed; // pump: bytes read from kwik (kwik credits the connection window for each), the preamble too
  private boolean preambleDue; // pump: a peer's stream whose first byte (the preamble) has not been read yet
  private boolean finDelivered; // pump: Braid has the peer's FIN
  private int resetSeqHandled; // pump: the last StreamSignals.rxResetSeq looked at
  private final Backoff backoff = new Backoff(); // pump

  /** Braid reads no more: what kwik still receives is dropped. */
  private final AtomicBoolean dropping = new AtomicBoolean();
  /** kwik's receiving part has ended: end of stream read (or being read), reset processed, or a read failed. */
  private final AtomicBoolean kwikDone = new AtomicBoolean();
  /**
   * The code of the one STOP_SENDING this end sent, else -1; set before the frame is queued. A RESET_STREAM with this
   * code is the peer's answer, not a reset by its application, whichever path sent the STOP_SENDING and in whatever
   * order those paths ran.
   */
  private volatile long stopSendingCodeSent = -1;

  /** @param peerOpened whether the peer opened the stream: its first byte is then the preamble, read off here */
  StreamInput(QuicMuxedStream stream, QuicConnection quic, InputStream in, StreamSignals sig, boolean peerOpened) {
    this.stream = stream;
    this.preambleDue = peerOpened;
    this.quic = quic;
    this.in = in;
    this.sig = sig;
    this.pump = new SerialPump(quic.transport().io(), "receive", this::drain);
    this.reads = new Kwik0108.GuardedRead(in);
    this.window = quic.options().receiveWindow();
  }

  void poke() {
    pump.poke();
  }

  /** Whether kwik's receiving part has ended. */
  boolean kwikDone() {
    return kwikDone.get();
  }

  /** Whether a RESET_STREAM with {@code code} is the peer's answer to our STOP_SENDING (not a reset by the peer). */
  boolean isAnswer(long code) {
    return code == stopSendingCodeSent;
  }

  /** The tap saw a RESET_STREAM for the stream: kwik is about to discard what it buffered (Kwik0108 section 8). */
  void watchAfterReset() {
    reads.watchAfterReset(quic.transport().scheduler(), kwikDone::get);
  }

  /**
   * Stops reading: queues STOP_SENDING with {@code code} (unless kwik's input ended or the peer's FIN or RESET_STREAM
   * is known) and from then on drops what kwik receives. Only the first call does anything: {@code closeRead()},
   * {@code reset(code)} and the stream's end all call it, in no fixed order.
   */
  void stopReading(long code) {
    if (!dropping.compareAndSet(false, true)) {
      return;
    }
    if (!kwikDone.get() && sig.rxFinalSize < 0 && sig.rxResetSeq == 0) {
      stopSendingCodeSent = code; // before the frame leaves: the peer's answer can never be seen first
      Kwik0108.stopSending(quic.kwik(), sig.streamId, code,
          () -> quic.isOpen() && !kwikDone.get() && sig.rxFinalSize < 0 && sig.rxResetSeq == 0);
    }
    pump.poke();
  }

  private void drain() {
    if (!stream.isRegistered()) {
      drop(); // refused before Braid knew it: only give the peer's bytes back to the connection window
      return;
    }
    int resetSeq = sig.rxResetSeq;
    if (resetSeq != resetSeqHandled) {
      resetSeqHandled = resetSeq;
      long code = sig.rxResetCode;
      kwikDone.set(true); // kwik terminated its input itself (and credited the bytes it dropped)
      if (!isAnswer(code)) {
        stream.peerReset(code);
        stream.releaseIfIdle();
        return;
      }
      // The peer's answer to our STOP_SENDING. Taken for a reset, it would end a CLOSED stream's flush (Braid's core fails
      // writes still queued after close() on a peer reset, and its FIN) while the peer, told only to stop sending, waits
      // for that FIN for good (issue 13 item 1). It ends the peer's sending part, without a FIN to deliver.
      stream.peerEndedInput();
      stream.releaseIfIdle();
    }
    if (sig.rxStopSendingCode >= 0) {
      stream.peerStoppedSending();
    }
    if (dropping.get()) {
      drop();
      return;
    }
    if (kwikDone.get() || finDelivered || stream.isTerminal()) {
      return;
    }
    boolean progressed = false;
    backoff.seen(sig.rxHighestUpTo);
    try {
      if (preambleDue && in.available() > 0) {
        byte[] first = new byte[1];
        if (reads.read(first, 0, 1) == 1) {
          consumed++;
          progressed = true;
          preambleDue = false;
          if (first[0] != QuicMuxedStream.PREAMBLE) {
            violation(String.format("its first byte is 0x%02x", first[0] & 0xff));
            return;
          }
        }
      }
      while (!preambleDue && stream.buffered() < window) {
        int available = in.available();
        if (available <= 0) {
          break;
        }
        byte[] chunk = new byte[Math.min(available, MAX_CHUNK)];
        int n = reads.read(chunk, 0, chunk.length);
        if (n <= 0) {
          break;
        }
        consumed += n;
        progressed = true;
        stream.deliver(ByteBuffer.wrap(chunk, 0, n));
      }
    } catch (IOException e) {
      if (sig.rxResetCode >= 0) {
        pump.poke(); // "Stream reset by peer": the frame was seen; the next run reports it with its code
      } else if (!dropping.get() && quic.isOpen()) {
        stream.readFailed(new ConnectionFailedException("kwik failed reading stream " + sig.streamId + ": "
            + e.getMessage(), e));
      }
      return;
    }
    long finalSize = sig.rxFinalSize;
    if (finalSize >= 0 && consumed >= finalSize) {
      if (preambleDue) { // final size 0: a FIN with no byte before it
        violation("it ended (FIN) before its preamble");
        return;
      }
      finDelivered = true;
      stream.peerFin();
      readEndOfStream();
      return;
    }
    if (stream.buffered() < window && consumed < sig.rxHighestUpTo) {
      retryLater(progressed);
    }
  }

  /**
   * The peer's stream does not start with the preamble: it speaks another mapping (or is broken). Nothing of it has
   * been delivered and nothing will be: the stream fails, and Braid's core resets it with {@code INTERNAL_ERROR}
   * (RESET_STREAM, then STOP_SENDING; what still arrives is drained for the connection's credit).
   */
  private void violation(String what) {
    String message = String.format("QUIC stream %d does not start with Braid's stream preamble 0x%02x (QUIC mapping 1, "
        + "ALPN braid/1): %s; the peer does not speak this mapping", sig.streamId, QuicMuxedStream.PREAMBLE, what);
    LOG.log(System.Logger.Level.WARNING, "{0}: {1}; failing the stream (reset with INTERNAL_ERROR)", stream, message);
    stream.readFailed(new ProtocolException(message));
  }

  /** Drop mode: read and drop what kwik has, until its end of stream or reset. */
  private void drop() {
    if (kwikDone.get()) {
      stream.releaseIfIdle();
      return;
    }
    boolean progressed = false;
    try {
      int available;
      byte[] scratch = null;
      while ((available = in.available()) > 0) {
        if (scratch == null) {
          scratch = new byte[Math.min(available, MAX_CHUNK)];
        }
        int n = reads.read(scratch, 0, Math.min(available, scratch.length));
        if (n <= 0) {
          break;
        }
        consumed += n; // kwik credits the connection window for every byte read
        progressed = true;
      }
    } catch (IOException e) {
      // "Stream reset by peer" (kwik credited the rest up to the final size; the next run reports the reset if it is
      // one) or the connection ended
      LOG.log(System.Logger.Level.DEBUG, "{0}: kwik input ended while dropping: {1}", stream, e.toString());
      kwikDone.set(true);
      pump.poke();
      return;
    }
    long finalSize = sig.rxFinalSize;
    if (finalSize >= 0 && consumed >= finalSize) {
      stream.peerFin();
      readEndOfStream();
    } else if (consumed < sig.rxHighestUpTo) {
      retryLater(progressed);
    }
  }

  /** Reads kwik's end-of-stream (-1) once, which lets kwik free the stream and grant the peer a new one. */
  private void readEndOfStream() {
    if (kwikDone.get()) {
      return;
    }
    try {
      quic.transport().blocking().execute(() -> {
        if (!kwikDone.compareAndSet(false, true)) {
          return;
        }
        try {
          // Returns at once: every byte up to the final size is read; at most it waits for kwik to finish processing
          // the packet that carried FIN (the tap saw it first). A dying connection wakes it too.
          if (reads.read(new byte[1], 0, 1) >= 0) {
            LOG.log(System.Logger.Level.WARNING, "{0}: a byte beyond the final size was readable", stream);
          }
        } catch (IOException e) {
          LOG.log(System.Logger.Level.DEBUG, "{0}: kwik end-of-stream read ended with {1}", stream, e.toString());
        }
        stream.releaseIfIdle();
      });
    } catch (RejectedExecutionException closing) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: transport closing, kwik stream left to the connection's end", stream);
    }
  }

  /**
   * The tap sees a packet just before kwik processes it, so its bytes may not be readable yet (or a gap waits for a
   * retransmission): look again at once a few times (kwik's receiver usually finishes within microseconds), then after
   * 100 µs, backing off to 20 ms while nothing moves.
   */
  private void retryLater(boolean progressed) {
    long delay = backoff.next(progressed);
    if (delay == 0) {
      pump.poke();
    } else if (backoff.pending.compareAndSet(false, true)) {
      try {
        quic.transport().scheduler().schedule(() -> {
          backoff.pending.set(false);
          pump.poke();
        }, delay, TimeUnit.MICROSECONDS);
      } catch (RejectedExecutionException closing) {
        backoff.pending.set(false);
      }
    }
  }

  String describe() {
    int avail;
    try {
      avail = in.available();
    } catch (IOException e) {
      avail = -1;
    }
    return "rxHighestUpTo=" + sig.rxHighestUpTo + " consumedFromKwik=" + consumed + " preambleDue=" + preambleDue
        + " kwikAvailable=" + avail
        + " finalSize=" + sig.rxFinalSize + " dropping=" + dropping.get() + " kwikInputDone=" + kwikDone.get();
  }

  /** How soon the pump looks again for bytes the tap announced (pump; {@code pending} also the timer). */
  private static final class Backoff {
    private static final long MIN_MICROS = 100;
    private static final long MAX_MICROS = 20_000;
    private static final int QUICK = 4;
    final AtomicBoolean pending = new AtomicBoolean();
    private long micros = MIN_MICROS;
    private long lastSeenHighest;
    private int quick;

    /** A new frame arrived: look again soon, not at the backed-off pace. */
    void seen(long highest) {
      if (highest != lastSeenHighest) {
        lastSeenHighest = highest;
        micros = MIN_MICROS;
        quick = 0;
      }
    }

    /** Microseconds to wait before looking again; 0 for at once. */
    long next(boolean progressed) {
      if (progressed || quick < QUICK) {
        quick = progressed ? 0 : quick + 1;
        return 0;
      }
      long delay = micros;
      micros = Math.min(micros * 2, MAX_MICROS);
      return delay;
    }
  }
}
