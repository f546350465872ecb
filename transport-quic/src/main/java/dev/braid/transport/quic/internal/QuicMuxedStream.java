package dev.braid.transport.quic.internal;

import dev.braid.ConnectionFailedException;
import dev.braid.StreamState;
import dev.braid.StreamStateListener;
import dev.braid.spi.AbstractMuxedStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import tech.kwik.core.QuicStream;
import tech.kwik.core.stream.FlowControlUpdateListener;

/**
 * One bidirectional QUIC stream as a Braid {@link dev.braid.MuxedStream}.
 *
 * <h2>State mapping</h2>
 * RFC 9000 §3.1 (sending part), §3.2 (receiving part) and kwik's connection events, onto {@link StreamState}:
 * <table>
 * <caption>QUIC stream states and events → Braid</caption>
 * <tr><th>QUIC / kwik</th><th>what Braid does</th><th>resulting {@code StreamState}</th></tr>
 * <tr><td>send: Ready (created by {@code createStream(true)}; a zero-length STREAM frame announces it)</td>
 *     <td>{@code openStream()} completes</td><td>OPEN</td></tr>
 * <tr><td>recv: Recv (first STREAM frame of a peer stream; kwik's new-stream callback)</td>
 *     <td>accepted / handed to the stream handler</td><td>OPEN</td></tr>
 * <tr><td>send: Send → Data Sent (we queue FIN: {@code getOutputStream().close()})</td>
 *     <td>{@code closeWrite()}, after every queued byte</td><td>OPEN → WRITE_CLOSED, READ_CLOSED → CLOSED</td></tr>
 * <tr><td>recv: Size Known → Data Recvd → Data Read (STREAM frame with FIN; every byte up to the final size read)</td>
 *     <td>{@code receiveFin()}, then kwik's read returns -1 (frees kwik's stream)</td>
 *     <td>OPEN → READ_CLOSED, WRITE_CLOSED → CLOSED</td></tr>
 * <tr><td>recv: we send STOP_SENDING (Braid queues the frame; see "Dropped bytes" below)</td>
 *     <td>{@code closeRead()}: buffered bytes dropped, later ones drained and dropped</td>
 *     <td>OPEN → READ_CLOSED, WRITE_CLOSED → CLOSED</td></tr>
 * <tr><td>recv: Reset Recvd caused by our own STOP_SENDING (the peer's answer: RESET_STREAM with the code of the
 *     STOP_SENDING we sent)</td>
 *     <td>ignored: the read side was already closed by us (a CLOSED stream goes on flushing, then sends FIN)</td>
 *     <td>unchanged</td></tr>
 * <tr><td>send: STOP_SENDING received; kwik answers with RESET_STREAM (send: Reset Sent)</td>
 *     <td>{@code receiveStopSending(code)}: pending writes fail with {@code WriteClosedException(STOPPED_BY_PEER, code)}
 *     (when the peer's RESET_STREAM came with it, the reset is handled first)</td>
 *     <td>OPEN → WRITE_CLOSED, READ_CLOSED → CLOSED</td></tr>
 * <tr><td>recv: Reset Recvd (peer's RESET_STREAM, or RESET_STREAM + STOP_SENDING in one packet after our closeRead)</td>
 *     <td>{@code receiveReset(code)}; the code is read from the RESET_STREAM frame itself</td><td>RESET (remote)</td></tr>
 * <tr><td>send: Reset Sent + recv: STOP_SENDING sent ({@code resetStream(code)}, then Braid's STOP_SENDING;
 *     after our FIN, where kwik's resetStream is a no-op, Braid queues the RESET_STREAM frame itself)</td>
 *     <td>{@code reset(code)}</td><td>RESET (local)</td></tr>
 * <tr><td>kwik ConnectionTerminatedEvent: ImmediateClose without error (CONNECTION_CLOSE, NO_ERROR)</td>
 *     <td>live streams fail with {@code ConnectionClosedException}</td><td>FAILED (CLOSED streams stay CLOSED)</td></tr>
 * <tr><td>recv: Reset Recvd with the reserved code {@code REFUSED} (or the peer's STOP_SENDING with it, if that comes
 *     first): the peer refused the stream</td>
 *     <td>{@code receiveReset(REFUSED)}: reads and writes fail with {@code StreamRefusedException}, remote</td>
 *     <td>RESET (remote)</td></tr>
 * <tr><td>we refuse a peer stream (our limit, a full accept backlog, the connection ending): RESET_STREAM and
 *     STOP_SENDING, both with {@code REFUSED}</td>
 *     <td>{@link #refuseUnregistered()} / {@link #refuseRegistered(String)}</td><td>RESET (local)</td></tr>
 * <tr><td>the stream fails inside Braid while the connection lives: RESET_STREAM / STOP_SENDING with
 *     {@code INTERNAL_ERROR}</td><td>{@code fail(cause)}</td><td>FAILED</td></tr>
 * <tr><td>kwik ConnectionTerminatedEvent: ImmediateClose with a transport error (e.g. FLOW_CONTROL_ERROR,
 *     STREAM_LIMIT_ERROR), with an application error, StatelessReset</td>
 *     <td>live streams fail with {@code ProtocolException} / {@code ConnectionFailedException} naming it</td>
 *     <td>FAILED</td></tr>
 * <tr><td>kwik ConnectionTerminatedEvent: IdleTimeout, ConnectionLost (kwik's idle timer closed the connection
 *     silently: nothing received for the idle timeout)</td>
 *     <td>live streams fail with {@code ConnectionTimedOutException}</td><td>FAILED</td></tr>
 * </table>
 *
 * <p><b>Where the reset code comes from.</b> kwik 0.10.8 does not keep the code of a received RESET_STREAM
 * ({@code StreamInputStreamImpl.terminate} drops it; the reader only sees {@code StreamClosedException("Stream
 * reset by peer")}). Braid reads it from the RESET_STREAM frame, which kwik passes to its logger before
 * processing the packet ({@link QuicFrameTap}).
 *
 * <p><b>Dropped bytes keep their credit.</b> Every byte the peer sends counts against the connection's window
 * whether or not anyone reads it (RFC 9000 §4.5). kwik 0.10.8's {@code abortReading} discards the bytes it buffered
 * and every byte that still arrives without returning their connection-level credit, so each stream closed for
 * reading while data flowed would shrink the window for good, until the connection stalls (the reset storm, kit
 * rule F1). Braid therefore never calls it: it queues the STOP_SENDING frame itself and keeps reading and dropping
 * what arrives until the peer's FIN (every byte read: credited) or RESET_STREAM (kwik credits the rest up to the
 * final size). Either ends kwik's receiving part, which lets kwik free the stream.
 *
 * <p><b>No thread per stream.</b> Inbound bytes move from kwik to Braid in a {@link SerialPump} on the
 * transport's small I/O pool, poked when a STREAM frame for this stream is parsed; it reads only what
 * {@code available()} reports, so it never blocks. Outbound bytes go to kwik only as far as kwik's 50 KiB
 * send buffer has room (bytes written minus the highest offset kwik has sent, seen through the same hook),
 * so writes never block either. An idle stream holds no thread and no timer.
 *
 * <p><b>Thread safety.</b> Thread-safe, as {@link AbstractMuxedStream} is. The receive pump and the send pump each
 * run serially; fields marked "receive pump" are touched only by the former.
 */
public final class QuicMuxedStream extends AbstractMuxedStream {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic");
  /** kwik's default per-stream send buffer (SendBuffer, when no size is given). */
  static final int KWIK_SEND_BUFFER = 50 * 1024;
  /**
   * The STOP_SENDING code of {@code closeRead()}: 2^32, just above Braid's 32-bit reset codes, so that the
   * RESET_STREAM a peer sends back in answer (copying the code) is told apart from a reset by the peer's
   * application. A receiver reports STOP_SENDING codes above 2^32 - 1 with 2^32 subtracted.
   */
  static final long CLOSE_READ_CODE = 1L << 32;
  private static final int MAX_CHUNK = 64 * 1024;
  private static final int MAX_WRITE = 16 * 1024;
  private static final int WAKE_ROOM = KWIK_SEND_BUFFER / 3;
  private static final long MIN_RETRY_MICROS = 100;
  private static final long MAX_RETRY_MICROS = 20_000;

  private final QuicConnection quic;
  private final QuicStream kwik;
  private final InputStream in;
  private final OutputStream out;
  private final StreamSignals sig;
  private final SerialPump receiver;
  private final SerialPump sender;
  private final int window;

  // receive pump
  private long consumedFromKwik;
  private boolean finDelivered;
  private boolean resetHandled;
  private int resetSeqHandled;
  private long retryMicros = MIN_RETRY_MICROS;
  private long lastSeenHighest;
  private int quickRetries;
  private static final int QUICK_RETRIES = 4;
  private final AtomicBoolean retryPending = new AtomicBoolean();
  private final AtomicBoolean stopSendingHandled = new AtomicBoolean();

  private volatile boolean localStopSent;
  /**
   * The code of the one STOP_SENDING this end sent, else -1; set before the frame is queued. A peer answers
   * STOP_SENDING with a RESET_STREAM carrying the same code (RFC 9000 §3.5), so a RESET_STREAM with this code is that
   * answer, not a reset by the peer's application, whichever path sent the STOP_SENDING and whatever the order in
   * which those paths ran (see {@link #discardInbound}).
   */
  private volatile long stopSendingCodeSent = -1;
  private volatile boolean localReset;
  private volatile boolean finQueued;
  private volatile boolean terminal;
  private volatile boolean remoteReset;
  /** The peer refused the stream (its STOP_SENDING with REFUSED was handled before any RESET_STREAM). */
  private volatile boolean refusedByPeer;
  private static final long STALL_CHECK_MILLIS = 50;
  private final AtomicBoolean stallCheckArmed = new AtomicBoolean();
  private volatile long stallCheckSentUpTo = -1;
  private volatile int kicks;
  /** kwik's receiving part is finished: end of stream read (or being read), reset processed, or failed. */
  private final AtomicBoolean kwikInputDone = new AtomicBoolean();
  /** Braid reads no more: what kwik still receives is drained and dropped (see "Dropped bytes" above). */
  private final AtomicBoolean discarding = new AtomicBoolean();
  /** Guards {@link #kwikReader} and {@link #readerInterrupted}. */
  private final Object kwikReadLock = new Object();
  /** The thread inside a kwik read of this stream, else null (guarded by kwikReadLock). See {@link #readFromKwik}. */
  private Thread kwikReader;
  /** Whether {@link #unstickKwikRead} interrupted {@link #kwikReader} (guarded by kwikReadLock). */
  private boolean readerInterrupted;
  private static final int STUCK_READ_CHECKS = 10;
  /** Refused before Braid registered it (stream limit, connection ending): no Braid state, only kwik's. */
  private volatile boolean refused;
  /** CLOSED while bytes written before close() still flow to kwik, with FIN after them. */
  private volatile boolean flushing;

  // send pump
  private final Object txLock = new Object();
  private PendingTx pendingTx; // guarded by txLock
  private volatile long writtenToKwik;
  private volatile boolean txWaiting;

  QuicMuxedStream(QuicConnection connection, QuicStream kwik, StreamSignals sig, boolean local,
      StreamStateListener listener) {
    super(connection, kwik.getStreamId(), local, false, listener);
    this.quic = connection;
    this.kwik = kwik;
    this.in = kwik.getInputStream();
    this.out = kwik.getOutputStream();
    this.sig = sig;
    this.window = connection.options().receiveWindow();
    this.receiver = new SerialPump(connection.transport().io(), "receive", this::drainInbound);
    this.sender = new SerialPump(connection.transport().io(), "send", this::drainOutbound);
  }

  void pokeReceiver() {
    receiver.poke();
  }

  void pokeSender() {
    // Wake a waiting writer once a third of kwik's send buffer is free again, not on every packet sent: fewer,
    // larger writes. (Safe: while less is free, kwik still holds unsent bytes and will report more sends.)
    if (txWaiting && KWIK_SEND_BUFFER - (writtenToKwik - sig.sentUpTo) >= WAKE_ROOM) {
      txWaiting = false;
      sender.poke();
    }
  }

  /**
   * Refuses a stream that was never registered (our stream limit, the connection ending): both directions aborted
   * at once with RESET_STREAM and STOP_SENDING carrying {@link dev.braid.StreamResetException#REFUSED}, which a Braid
   * peer reports as {@link dev.braid.StreamRefusedException} (remote).
   */
  void refuseUnregistered() {
    refused = true;
    localReset = true;
    terminal = true;
    quic.onSenderThread(() -> { // RESET_STREAM first, then STOP_SENDING, as in transmitReset
      kwik.resetStream(QuicConnection.REFUSED);
      discardInbound(QuicConnection.REFUSED);
    });
  }

  /**
   * Refuses a registered stream nobody will use: an inbound one no one will accept (the accept backlog is full, the
   * connection is ending), or one we opened after its open had already failed. Braid's core ends it RESET and sends
   * RESET_STREAM + STOP_SENDING with {@code REFUSED} ({@link #transmitReset}).
   */
  void refuseRegistered(String why) {
    refuse(why);
  }

  // ---------------------------------------------------------------- receive side

  /** Diagnostics: where the stream's bytes are. */
  public String describe() {
    int avail;
    try {
      avail = in.available();
    } catch (IOException e) {
      avail = -1;
    }
    return this + " " + state() + " rxHighestUpTo=" + sig.rxHighestUpTo + " consumedFromKwik=" + consumedFromKwik
        + " kwikAvailable=" + avail + " braidBuffered=" + bufferedInboundBytes() + " finalSize=" + sig.rxFinalSize
        + " written=" + writtenToKwik + " sentUpTo=" + sig.sentUpTo + " finQueued=" + finQueued + " finSent=" + sig.finSent + " txWaiting=" + txWaiting + " kicks=" + kicks + " pings=" + quic.pings();
  }

  private void drainInbound() {
    if (refused) {
      dropInbound(); // never a Braid stream: only give the peer's bytes back to the connection window
      return;
    }
    int resetSeq = sig.rxResetSeq;
    if (resetSeq != resetSeqHandled) {
      resetSeqHandled = resetSeq;
      long resetCode = sig.rxResetCode;
      kwikInputDone.set(true); // kwik terminated its input itself (and credited the bytes it dropped)
      forgetWhenDone();
      // After we stopped reading, the peer answers our STOP_SENDING with RESET_STREAM carrying our code (RFC 9000
      // §3.5: it SHOULD copy it). That answer is not a reset: taken for one, it would end a CLOSED stream's flush
      // (abort() fails writes still queued after close() and its FIN) while the peer, told only to stop sending,
      // waits for that FIN for good. closeRead's code, CLOSE_READ_CODE, is outside Braid's 32-bit reset codes, so
      // the answer is never mistaken for the peer's own reset(code) either.
      if (resetCode != stopSendingCodeSent) {
        resetHandled = true;
        remoteReset = true;
        receiveReset(resetCode);
        return;
      }
    }
    if (sig.rxStopSendingCode >= 0) {
      handlePeerStopSending();
    }
    if (discarding.get()) {
      dropInbound();
      return;
    }
    if (localStopSent || resetHandled || resetSeqHandled != 0 || finDelivered || localReset || state().isTerminal()) {
      return;
    }
    boolean progressed = false;
    long highest = sig.rxHighestUpTo;
    if (highest != lastSeenHighest) {
      lastSeenHighest = highest;
      retryMicros = MIN_RETRY_MICROS; // a new frame: look again soon, not at the backed-off pace
      quickRetries = 0;
    }
    try {
      while (bufferedInboundBytes() < window) {
        int available = in.available();
        if (available <= 0) {
          break;
        }
        byte[] chunk = new byte[Math.min(available, MAX_CHUNK)];
        int n = readFromKwik(chunk, 0, chunk.length);
        if (n <= 0) {
          break;
        }
        consumedFromKwik += n;
        progressed = true;
        receive(ByteBuffer.wrap(chunk, 0, n));
      }
    } catch (IOException e) {
      if (sig.rxResetCode >= 0) {
        receiver.poke(); // "Stream reset by peer": the frame was seen; the next run reports it with its code
      } else if (!localStopSent && !localReset && quic.isOpen()) {
        fail(new ConnectionFailedException("kwik failed reading stream " + id() + ": " + e.getMessage(), e));
      }
      return;
    }
    long finalSize = sig.rxFinalSize;
    if (finalSize >= 0 && consumedFromKwik >= finalSize) {
      finDelivered = true;
      receiveFin();
      readEndOfStream();
      return;
    }
    if (bufferedInboundBytes() < window && consumedFromKwik < sig.rxHighestUpTo) {
      retryLater(progressed);
    }
  }

  /**
   * The tap sees a packet just before kwik processes it, so its bytes may not be readable yet (or a gap waits for
   * a retransmission): look again shortly, backing off while nothing moves.
   */
  private void retryLater(boolean progressed) {
    if (progressed || quickRetries < QUICK_RETRIES) {
      // kwik's receiver thread usually finishes the packet within microseconds: look again at once, a few times
      quickRetries = progressed ? 0 : quickRetries + 1;
      receiver.poke();
      return;
    }
    long delay = retryMicros;
    retryMicros = Math.min(retryMicros * 2, MAX_RETRY_MICROS);
    if (retryPending.compareAndSet(false, true)) {
      try {
        quic.transport().scheduler().schedule(() -> {
          retryPending.set(false);
          receiver.poke();
        }, delay, TimeUnit.MICROSECONDS);
      } catch (java.util.concurrent.RejectedExecutionException closing) {
        retryPending.set(false);
      }
    }
  }

  /**
   * Stops reading: queues STOP_SENDING (unless the peer already sent FIN or RESET_STREAM) and from then on drains
   * and drops what kwik receives, so that its connection-level credit comes back (see "Dropped bytes" above).
   *
   * <p>Only the first call sends anything, and up to three paths call it, in no fixed order: {@code closeRead()}
   * ({@link #transmitStopSending}), {@code reset(code)} ({@link #transmitReset}) and the stream's end
   * ({@link #onTerminated}, which Braid's core runs before the {@code transmitStopSending} of the closeRead that made
   * the stream CLOSED). The code actually sent is recorded in {@link #stopSendingCodeSent} before the frame is queued.
   */
  private void discardInbound(long code) {
    if (!discarding.compareAndSet(false, true)) {
      return;
    }
    if (!kwikInputDone.get() && sig.rxFinalSize < 0 && sig.rxResetSeq == 0) {
      stopSendingCodeSent = code; // before the frame leaves: the peer's answer can never be seen first
      quic.sendStopSendingFrame(sig.streamId, code,
          () -> !kwikInputDone.get() && sig.rxFinalSize < 0 && sig.rxResetSeq == 0);
    }
    receiver.poke();
  }

  /** Receive pump, after Braid stopped reading: read and drop what kwik has, until its end of stream or reset. */
  private void dropInbound() {
    if (kwikInputDone.get()) {
      forgetWhenDone();
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
        int n = readFromKwik(scratch, 0, Math.min(available, scratch.length));
        if (n <= 0) {
          break;
        }
        consumedFromKwik += n; // kwik credits the connection window for every byte read
        progressed = true;
      }
    } catch (IOException e) {
      // "Stream reset by peer" (kwik credited the rest up to the final size) or the connection ended
      kwikInputDone.set(true);
      forgetWhenDone();
      return;
    }
    long finalSize = sig.rxFinalSize;
    if (finalSize >= 0 && consumedFromKwik >= finalSize) {
      readEndOfStream();
      forgetWhenDone();
    } else if (consumedFromKwik < sig.rxHighestUpTo) {
      retryLater(progressed);
    }
  }

  /**
   * One kwik read of bytes that {@code available()} reported (or of the end of stream), marked so that
   * {@link #unstickKwikRead} can wake it.
   *
   * <p>kwik 0.10.8's read can miss its wake-up: it checks its reset flag, then records the reading thread, reads its
   * receive buffer and waits on it without a timeout. A RESET_STREAM processed between the check and the record
   * (kwik's receiver thread sets the flag, discards the buffered bytes and interrupts the recorded reader: none yet)
   * leaves the reader waiting for good, although {@code available()} said there were bytes (fixed upstream after
   * 0.10.9, commit 156ec6f2 "fix possible lost wakeup of a blocked reader"). Here that would hold one of the transport's few I/O threads forever,
   * and the stream would never report the reset (kit rules R1 and R2 saw both). An interrupt makes kwik look again:
   * it then sees the reset and throws, or, had nothing vanished, reads on.
   */
  private int readFromKwik(byte[] b, int off, int len) throws IOException {
    synchronized (kwikReadLock) {
      kwikReader = Thread.currentThread();
    }
    try {
      return in.read(b, off, len);
    } finally {
      synchronized (kwikReadLock) {
        kwikReader = null;
        if (readerInterrupted) {
          readerInterrupted = false;
          Thread.interrupted(); // ours, in case kwik returned before it consumed it
        }
      }
    }
  }

  /** Interrupts a kwik read of this stream that is in progress, if any (see {@link #readFromKwik}). */
  private void unstickKwikRead() {
    synchronized (kwikReadLock) {
      if (kwikReader != null) {
        readerInterrupted = true;
        kwikReader.interrupt();
      }
    }
  }

  /**
   * The tap saw a RESET_STREAM for this stream: kwik is about to discard what it buffered, which can strand a kwik
   * read in progress (see {@link #readFromKwik}). Nothing else strands one: the pumps read only what
   * {@code available()} reported, and a connection's end ({@code abort()}) keeps the bytes and wakes the reader it
   * knows of. Once kwik has set its reset flag no new read can be stranded, so interrupting a read still in progress
   * shortly afterwards is enough. kwik sets it on its receiver thread right after the tap; the checks back off from
   * 1 ms to about half a second in case that thread is late, and stop once the receive pump has seen kwik's input
   * end (it then reads no more).
   */
  void watchForStrandedRead() {
    watchForStrandedRead(0);
  }

  private void watchForStrandedRead(int attempt) {
    if (attempt > 0) {
      unstickKwikRead();
    }
    if (attempt >= STUCK_READ_CHECKS || (attempt > 0 && kwikInputDone.get())) {
      return;
    }
    try {
      quic.transport().scheduler().schedule(() -> watchForStrandedRead(attempt + 1), 1L << attempt,
          TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      unstickKwikRead(); // the transport is closing: no later check; wake what is stranded now
    }
  }

  /** Drops this stream's entry in the frame tap once nothing more is expected from kwik for it in either direction. */
  private void forgetWhenDone() {
    if (terminal && !flushing && (kwikInputDone.get() || finDelivered || !quic.isOpen())) {
      quic.forget(sig);
    }
  }

  /** Reads kwik's end-of-stream (-1) once, which lets kwik free the stream and grant the peer a new one. */
  private void readEndOfStream() {
    if (kwikInputDone.get()) {
      return;
    }
    try {
      quic.transport().blocking().execute(() -> {
        if (!kwikInputDone.compareAndSet(false, true)) {
          return;
        }
        try {
          // Returns at once: every byte up to the final size is read; at most it waits for kwik to finish
          // processing the packet that carried FIN (the tap saw it first). A dying connection wakes it too.
          int r = readFromKwik(new byte[1], 0, 1);
          if (r >= 0) {
            LOG.log(System.Logger.Level.WARNING, "{0}: a byte beyond the final size was readable", this);
          }
        } catch (IOException e) {
          LOG.log(System.Logger.Level.DEBUG, "{0}: kwik end-of-stream read ended with {1}", this, e.toString());
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: transport closing, kwik stream left to the connection's end", this);
    }
  }

  /**
   * Reports the peer's STOP_SENDING (writes fail with {@code WriteClosedException(STOPPED_BY_PEER)}), unless the peer
   * has reset the stream as well: a peer's {@code reset(code)} sends RESET_STREAM and STOP_SENDING together (Braid's
   * RESET_STREAM first), and the tap records both before kwik processes the packet, but either pump may see the
   * STOP_SENDING first (the send pump looks at it too). The reset then wins: it is left to the receive pump, which
   * handles a reset before a STOP_SENDING, so that pending writes fail with the reset (kit rules E1, F3), not with
   * {@code WriteClosedException}. A RESET_STREAM that answers our own STOP_SENDING is no reset and does not wait.
   *
   * @return false if the STOP_SENDING waits for the peer's reset to be handled first
   */
  private boolean handlePeerStopSending() {
    if (sig.rxResetSeq != 0 && !remoteReset && sig.rxResetCode != stopSendingCodeSent) {
      receiver.poke();
      return false;
    }
    if (!stopSendingHandled.compareAndSet(false, true)) {
      return true;
    }
    // kwik has answered with RESET_STREAM for our send side already (StreamManager.process(StopSendingFrame)).
    long code = sig.rxStopSendingCode;
    if (code == QuicConnection.REFUSED && !remoteReset && !resetHandled) {
      // The peer refused the stream: it sends RESET_STREAM and STOP_SENDING, both with REFUSED; this STOP_SENDING came
      // alone (its RESET_STREAM lost or in a later packet). A refusal, not a "stop writing": reads and writes fail with
      // StreamRefusedException at once (the RESET_STREAM, when it comes, finds the stream RESET already).
      refusedByPeer = true;
      remoteReset = true;
      receiveReset(QuicConnection.REFUSED);
      sender.poke();
      return true;
    }
    receiveStopSending(code >= CLOSE_READ_CODE ? code - CLOSE_READ_CODE : code);
    sender.poke();
    return true;
  }

  @Override
  protected void consumed(int bytes) {
    receiver.poke();
  }

  // ---------------------------------------------------------------- send side

  @Override
  protected CompletableFuture<Void> transmit(ByteBuffer data) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    synchronized (txLock) {
      pendingTx = new PendingTx(data, f);
    }
    sender.poke();
    return f;
  }

  private void drainOutbound() {
    PendingTx p;
    synchronized (txLock) {
      p = pendingTx;
    }
    if (p == null) {
      return;
    }
    if (localReset || sig.rxStopSendingCode >= 0) {
      if (sig.rxStopSendingCode >= 0) {
        handlePeerStopSending();
      }
      clearPending(p); // abandoned: Braid no longer awaits this transmission
      return;
    }
    ByteBuffer data = p.data;
    while (data.hasRemaining()) {
      long space = KWIK_SEND_BUFFER - (writtenToKwik - sig.sentUpTo);
      if (space <= 0) {
        txWaiting = true;
        if (KWIK_SEND_BUFFER - (writtenToKwik - sig.sentUpTo) <= 0) {
          armStallCheck(); // kwik may have stranded the buffer; then nothing would ever poke us
          return; // the send hook pokes us when kwik has put more of the buffer on the wire
        }
        txWaiting = false;
        continue;
      }
      int n = (int) Math.min(Math.min(space, data.remaining()), MAX_WRITE);
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
        clearPending(p);
        if (sig.rxStopSendingCode >= 0) {
          // kwik reset our output because the peer sent STOP_SENDING. If the peer reset the stream too, the write
          // is abandoned: the reset fails it (see handlePeerStopSending).
          if (handlePeerStopSending()) {
            p.future.completeExceptionally(e);
          }
        } else if (localReset) {
          p.future.completeExceptionally(e);
        } else {
          ConnectionFailedException end = quic.failure();
          p.future.completeExceptionally(end != null ? end
              : new ConnectionFailedException("kwik failed writing stream " + id() + ": " + e.getMessage(), e));
        }
        return;
      }
      writtenToKwik += n;
    }
    clearPending(p);
    armStallCheck();
    p.future.complete(null);
  }


  /**
   * kwik 0.10.8 can leave bytes (or the FIN) in a stream's send buffer with no send request queued, and then
   * sends nothing more on that stream: the "bulk-send stall" (README). While kwik holds unsent bytes or an unsent
   * FIN, check every {@link #STALL_CHECK_MILLIS} ms that it made progress; if not, queue a new send request
   * through the stream's flow-control listener ({@code streamNotBlocked}), which is exactly what kwik does itself
   * when a MAX_STREAM_DATA arrives.
   */
  private void armStallCheck() {
    if (!unsent()) {
      if (terminal && finQueued && flushing) {
        flushing = false; // the flush after close() is done
        forgetWhenDone();
      }
      return;
    }
    if (!stallCheckArmed.compareAndSet(false, true)) {
      return;
    }
    stallCheckSentUpTo = sig.sentUpTo;
    try {
      quic.transport().scheduler().schedule(this::checkStall, STALL_CHECK_MILLIS, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      stallCheckArmed.set(false);
    }
  }

  private boolean unsent() {
    return writtenToKwik > sig.sentUpTo || (finQueued && !sig.finSent);
  }

  private void checkStall() {
    stallCheckArmed.set(false);
    if (localReset || sig.rxStopSendingCode >= 0 || !quic.isOpen()) {
      return;
    }
    if (unsent() && sig.sentUpTo == stallCheckSentUpTo) {
      kicks++;
      if (out instanceof FlowControlUpdateListener) {
        ((FlowControlUpdateListener) out).streamNotBlocked(sig.streamId); // queues a send request (no flush)
        quic.ping(); // wakes the sender
      } else if (!finQueued) {
        try {
          out.write(new byte[0], 0, 0); // queues a send request too
        } catch (IOException e) {
          return;
        }
      }
    }
    armStallCheck();
  }

  private void clearPending(PendingTx p) {
    synchronized (txLock) {
      if (pendingTx == p) {
        pendingTx = null;
      }
    }
  }

  @Override
  protected void transmitFin() {
    finQueued = true;
    try {
      out.close(); // kwik queues FIN after every byte written; never blocks
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: kwik refused FIN: {1}", this, e.toString());
    }
    armStallCheck();
  }

  @Override
  protected void transmitReset(long code) {
    localReset = true;
    // RESET_STREAM goes first, STOP_SENDING after it: a peer that has closed its read side would otherwise
    // take the STOP_SENDING for a plain "stop writing" and end CLOSED before our reset code arrives.
    if (sig.rxStopSendingCode < 0 && !finQueued) {
      quic.onSenderThread(() -> { // see QuicConnection.onSenderThread: kwik's reset must not race its sender
        if (sig.rxStopSendingCode < 0) {
          kwik.resetStream(code); // RESET_STREAM; drops what kwik still buffers
          stopReading(code);
        } else {
          sendOwnReset(code, 0); // the peer's STOP_SENDING came meanwhile: kwik answers it with the peer's code
        }
      });
    } else {
      // kwik's resetStream is a no-op after FIN, and after it answered the peer's STOP_SENDING on its own
      // (with the peer's code): queue our RESET_STREAM, with the same final size, so the peer learns our code.
      sendOwnReset(code, 0);
    }
    sender.poke();
  }

  private void stopReading(long code) {
    discardInbound(code); // STOP_SENDING, unless every byte has arrived already
  }

  /**
   * Queues our own RESET_STREAM where kwik's {@code resetStream} is a no-op, with the final size the peer already
   * knows or will know. After our FIN was queued ({@code out.close()}), that is every byte written to kwik, unless a
   * STOP_SENDING of the peer reached kwik first: then kwik reset the stream itself (ignoring the close) with the
   * offset it had sent, and we wait until its RESET_STREAM is sent to learn it. Which of the two won shows when one of
   * them leaves: kwik's RESET_STREAM ({@code sentResetFinalSize}) or our FIN ({@code finSent}, kwik never sends a
   * FIN after resetting).
   */
  private void sendOwnReset(long code, int attempt) {
    long finalSize = sig.sentResetFinalSize;
    if (finalSize < 0 && finQueued && (sig.rxStopSendingCode < 0 || sig.finSent)) {
      finalSize = writtenToKwik; // FIN fixed the final size
    }
    if (finalSize >= 0) {
      quic.sendResetFrame(sig.streamId, code, finalSize);
      stopReading(code);
    } else if (attempt < 200 && quic.isOpen()) {
      // kwik's own RESET_STREAM (which fixes the final size) is queued but not sent yet
      try {
        quic.transport().scheduler().schedule(() -> sendOwnReset(code, attempt + 1), 5, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException closing) {
        stopReading(code);
      }
    } else {
      stopReading(code);
    }
  }

  @Override
  protected void transmitStopSending(long code) {
    localStopSent = true;
    discardInbound(CLOSE_READ_CODE + code);
  }

  @Override
  protected void onTerminated(StreamState finalState) {
    // CLOSED can be reached while bytes written before close() still flow to kwik, with FIN after them.
    flushing = finalState == StreamState.CLOSED && !finQueued && sig.rxStopSendingCode < 0;
    // A local reset() reaches its terminal state before transmitReset(code) runs: that call cleans up.
    boolean localResetPending = finalState == StreamState.RESET && !remoteReset;
    try {
      if (quic.isOpen() && !localResetPending) {
        // Hand kwik back what it still holds, so that it frees the stream and grants the peer another. A CLOSED
        // stream without the peer's FIN was closed for reading by closeRead(), whose transmitStopSending may not have
        // run yet: use its code, so that the peer sees a closeRead and the answer is told apart from a reset.
        // A stream RESET by the peer echoes the peer's code; one that FAILED while the connection lives (kwik failed a
        // read) is Braid's own fault: INTERNAL_ERROR, never an application code.
        long code = finalState != StreamState.RESET ? QuicConnection.INTERNAL_ERROR
            : sig.rxResetCode >= 0 ? sig.rxResetCode : refusedByPeer ? QuicConnection.REFUSED : QuicConnection.INTERNAL_ERROR;
        if (!finDelivered) {
          discardInbound(finalState == StreamState.CLOSED ? CLOSE_READ_CODE : code);
        }
        if (finalState != StreamState.CLOSED && !finQueued && !localReset && sig.rxStopSendingCode < 0) {
          quic.onSenderThread(() -> kwik.resetStream(code));
        }
      }
    } finally {
      terminal = true;
      forgetWhenDone();
    }
  }

  private static final class PendingTx {
    final ByteBuffer data;
    final CompletableFuture<Void> future;

    PendingTx(ByteBuffer data, CompletableFuture<Void> future) {
      this.data = data;
      this.future = future;
    }
  }
}
