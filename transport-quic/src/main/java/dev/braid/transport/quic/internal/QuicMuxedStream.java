package dev.braid.transport.quic.internal;

import dev.braid.ConnectionFailedException;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.StreamStateListener;
import dev.braid.spi.AbstractMuxedStream;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import tech.kwik.core.QuicStream;

/**
 * One bidirectional QUIC stream as a Braid {@link dev.braid.MuxedStream}.
 *
 * <h2>Stream preamble (QUIC mapping 1, ALPN {@code braid/1})</h2>
 * The opener's first byte on every stream is {@link #PREAMBLE} (0x00), written into kwik's stream right after kwik
 * created it and before {@code openStream()} completes ({@link StreamOutput#writePreamble}), so it precedes every
 * application byte, the FIN and, as far as kwik allows ({@link Kwik0108} section 7), any reset of ours. It is what makes
 * the stream visible to the peer before the application writes: quiche can neither send nor see a zero-length STREAM
 * frame (cloudflare/quiche#731), which is how mapping 0 announced a stream. The acceptor reads it off before
 * anything reaches Braid's core ({@link StreamInput}); a stream whose first byte is another, or that ends before its
 * first byte, fails with a {@link dev.braid.ProtocolException} and is reset with {@code INTERNAL_ERROR}. It is never
 * application data: not in {@code bytesWritten} or {@code bytesRead}, not in Braid's receive window.
 *
 * <h2>State mapping</h2>
 * RFC 9000 §3.1 (sending part), §3.2 (receiving part) and kwik's connection events, onto {@link StreamState}:
 * <table>
 * <caption>QUIC stream states and events → Braid</caption>
 * <tr><th>QUIC / kwik</th><th>what Braid does</th><th>resulting {@code StreamState}</th></tr>
 * <tr><td>send: Ready (created by {@code createStream(true)}); Braid writes the one-byte preamble 0x00 into the stream,
 *     which announces it to the peer before any application byte</td>
 *     <td>{@code openStream()} completes (after the preamble is queued)</td><td>OPEN</td></tr>
 * <tr><td>recv: Recv (first STREAM frame of a peer stream, normally carrying the preamble; kwik's new-stream
 *     callback)</td>
 *     <td>accepted / handed to the stream handler; the preamble is read off before any byte is delivered (another first
 *     byte, or a FIN before it: {@code fail(ProtocolException)}, reset with {@code INTERNAL_ERROR}, FAILED)</td>
 *     <td>OPEN</td></tr>
 * <tr><td>send: Send → Data Sent (we queue FIN: {@code getOutputStream().close()})</td>
 *     <td>{@code closeWrite()}, after every queued byte</td><td>OPEN → WRITE_CLOSED, READ_CLOSED → CLOSED</td></tr>
 * <tr><td>recv: Size Known → Data Recvd → Data Read (STREAM frame with FIN; every byte up to the final size read)</td>
 *     <td>{@code receiveFin()}, then kwik's read returns -1 (frees kwik's stream)</td>
 *     <td>OPEN → READ_CLOSED, WRITE_CLOSED → CLOSED</td></tr>
 * <tr><td>recv: we send STOP_SENDING (Braid queues the frame: {@link Kwik0108#stopSending})</td>
 *     <td>{@code closeRead()}: buffered bytes dropped, later ones drained and dropped ({@link StreamInput})</td>
 *     <td>OPEN → READ_CLOSED, WRITE_CLOSED → CLOSED</td></tr>
 * <tr><td>recv: Reset Recvd caused by our own STOP_SENDING (the peer's answer: RESET_STREAM with the code of the
 *     STOP_SENDING we sent)</td>
 *     <td>not a reset: the peer's sending part ended without a FIN ({@code receiveEndOfInput()}: nothing more
 *     arrives, the state does not change; a CLOSED stream goes on flushing, then sends FIN)</td>
 *     <td>unchanged</td></tr>
 * <tr><td>send: STOP_SENDING received; kwik answers with RESET_STREAM (send: Reset Sent)</td>
 *     <td>{@code receiveStopSending(code)}: pending writes fail with {@code WriteClosedException(STOPPED_BY_PEER, code)}
 *     (when the peer's RESET_STREAM came with it, the reset is handled first)</td>
 *     <td>OPEN → WRITE_CLOSED, READ_CLOSED → CLOSED</td></tr>
 * <tr><td>recv: Reset Recvd (peer's RESET_STREAM, or RESET_STREAM + STOP_SENDING in one packet after our closeRead)</td>
 *     <td>{@code receiveReset(code)}; the code is read from the RESET_STREAM frame itself</td><td>RESET (remote)</td></tr>
 * <tr><td>send: Reset Sent + recv: STOP_SENDING sent ({@code resetStream(code)}, then Braid's STOP_SENDING;
 *     after our FIN, where kwik's resetStream is a no-op, Braid queues the RESET_STREAM frame itself:
 *     {@link Kwik0108#resetAfterFin})</td>
 *     <td>{@code reset(code)}</td><td>RESET (local)</td></tr>
 * <tr><td>kwik ConnectionTerminatedEvent: ImmediateClose without error (CONNECTION_CLOSE, NO_ERROR)</td>
 *     <td>live streams fail with {@code ConnectionClosedException}</td><td>FAILED (CLOSED streams stay CLOSED)</td></tr>
 * <tr><td>recv: Reset Recvd with the reserved code {@code REFUSED} (or the peer's STOP_SENDING with it, if that comes
 *     first): the peer refused the stream</td>
 *     <td>{@code receiveReset(REFUSED)}: reads and writes fail with {@code StreamRefusedException}, remote</td>
 *     <td>RESET (remote)</td></tr>
 * <tr><td>we refuse a peer stream (our limit, a full accept backlog, the connection ending): RESET_STREAM and
 *     STOP_SENDING, both with {@code REFUSED}</td>
 *     <td>{@link #refuseUnregistered()} / {@code refuse(why)}</td><td>RESET (local)</td></tr>
 * <tr><td>the stream fails inside Braid while the connection lives, or lingers past the idle timeout once terminal:
 *     Braid's core resets it with {@code INTERNAL_ERROR} (RESET_STREAM + STOP_SENDING)</td>
 *     <td>{@code fail(cause)} / the linger bound</td><td>FAILED / unchanged</td></tr>
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
 * ({@code StreamInputStreamImpl.terminate} drops it); Braid reads it from the frame, which kwik passes to its logger
 * before processing the packet ({@link QuicFrameTap}).
 *
 * <p><b>End of life.</b> Braid's core decides when the stream is finished on the wire and then calls
 * {@link #onFinished()}: kwik's sending part is reset if nothing ended it (after a peer's reset: the peer's code), and its
 * receiving part is drained to its end so that kwik returns the connection credit and frees the stream. The stream's
 * entry in the tap ({@link StreamSignals}) is dropped once kwik needs it no more: Braid finished, kwik's input ended,
 * and kwik's output settled ({@link StreamOutput#settled()}: a FIN handed over after Braid finished may still be
 * leaving, watched by the stall check).
 *
 * <p><b>No thread per stream.</b> {@link StreamInput} and {@link StreamOutput} each move bytes in a {@link SerialPump}
 * on the transport's small I/O pool, poked by the tap; neither ever blocks in kwik. An idle stream holds no thread and
 * no timer.
 *
 * <p><b>Thread safety.</b> Thread-safe, as {@link AbstractMuxedStream} is. The fields here are written once by the
 * connection ({@link #register}), by either pump ({@code peerResetCode}, {@code peerStopHandled}) or by
 * {@link #onFinished()} ({@code finished}), and read anywhere.
 */
public final class QuicMuxedStream extends AbstractMuxedStream {
  /**
   * Braid's stream preamble (QUIC mapping 1): the first byte of every stream, written by its opener, read off by its
   * acceptor; never application data.
   */
  static final byte PREAMBLE = 0x00;

  private final QuicConnection quic;
  private final StreamSignals sig;
  private final StreamInput input;
  private final StreamOutput output;
  /** The peer's STOP_SENDING was handled (either pump may see it first). */
  private final AtomicBoolean peerStopHandled = new AtomicBoolean();
  /** The code Braid reported as the peer's reset (or refusal), else -1. */
  private volatile long peerResetCode = -1;
  /** Braid's connection holds the stream; false for a stream refused before it was registered. */
  private volatile boolean registered;
  /** Braid's core finished the stream ({@link #onFinished()}), or it was refused before registration. */
  private volatile boolean finished;

  QuicMuxedStream(QuicConnection connection, QuicStream kwik, StreamSignals sig, boolean local,
      StreamStateListener listener) {
    super(connection, kwik.getStreamId(), local, false, listener);
    this.quic = connection;
    this.sig = sig;
    this.input = new StreamInput(this, connection, kwik.getInputStream(), sig, !local);
    this.output = new StreamOutput(this, connection, kwik, sig);
  }

  // ---------------------------------------------------------------- the connection's and the tap's calls

  /** Braid's connection registered the stream; called before the tap can route frames to it. */
  void register() {
    registered = true;
  }

  /** The opener's first byte on the stream, before {@code openStream()} completes ({@link StreamOutput#writePreamble}). */
  void writePreamble() throws java.io.IOException {
    output.writePreamble();
  }

  /**
   * Refuses a stream that was never registered (our stream limit, the connection ending): both directions aborted at
   * once with RESET_STREAM and STOP_SENDING carrying {@link StreamResetException#REFUSED}, which a Braid peer reports
   * as {@link dev.braid.StreamRefusedException} (remote); what the peer still sends is drained for the credit.
   */
  void refuseUnregistered() {
    finished = true;
    output.reset(StreamResetException.REFUSED);
  }

  /**
   * Refuses a registered stream nobody will use: an inbound one no one will accept (the accept backlog is full, the
   * connection is ending), or one we opened after its open had already failed. Braid's core ends it RESET and resets it
   * with {@code REFUSED} ({@link #transmitReset}).
   */
  void refuseRegistered(String why) {
    refuse(why);
  }

  void pokeReceiver() {
    input.poke();
  }

  /** kwik sent more of the stream (its sent offset moved, or its FIN left). */
  void pokeSender() {
    output.onKwikSent();
    if (finished) {
      releaseIfIdle();
    }
  }

  /** The tap saw a RESET_STREAM for this stream (see {@link Kwik0108.GuardedRead}). */
  void watchForStrandedRead() {
    input.watchAfterReset();
  }

  /** Diagnostics: where the stream's bytes are. */
  public String describe() {
    return this + " " + state() + " " + input.describe() + " braidBuffered=" + bufferedInboundBytes() + " "
        + output.describe() + " finished=" + finished + " pings=" + quic.pings();
  }

  /** Whether kwik's send buffer for this stream survives kwik's own resets ({@link LockedSendBuffer}). */
  boolean sendBufferLocked() {
    return output.lockedBuffer();
  }

  // ---------------------------------------------------------------- Braid's hooks

  @Override
  protected CompletableFuture<Void> transmit(ByteBuffer data) {
    return output.transmit(data);
  }

  @Override
  protected void transmitFin() {
    output.fin();
  }

  @Override
  protected void transmitReset(long code) {
    output.reset(code);
  }

  @Override
  protected void transmitStopSending(long code) {
    input.stopReading(StreamInput.CLOSE_READ_CODE + code);
  }

  @Override
  protected void consumed(int bytes) {
    input.poke();
  }

  /**
   * Finished on the wire: hand kwik back what it still holds, so that it frees the stream and grants the peer another.
   * Its sending part, if nothing ended it (the peer reset the stream, or a transmission failed), is reset with the
   * peer's code; its receiving part is drained to its end (STOP_SENDING first, unless the peer's FIN or reset is known).
   * A reset on its way (ours: {@code transmitReset} returns before kwik's sender thread queued the RESET_STREAM) stops
   * reading itself, with its code and after its RESET_STREAM: a STOP_SENDING ahead of it would reach the peer as a plain
   * "stop writing" and fail its writes with {@code WriteClosedException} instead of the reset (kit rule E1).
   */
  @Override
  protected void onFinished() {
    finished = true;
    if (quic.isOpen()) {
      long code = peerResetCode >= 0 ? peerResetCode : StreamResetException.INTERNAL_ERROR;
      if (!output.ended()) {
        output.reset(code); // stops reading once the RESET_STREAM is queued (resetQueued)
      } else if (!output.resetting()) {
        input.stopReading(code);
      }
    }
    releaseIfIdle();
  }

  // ---------------------------------------------------------------- for StreamInput and StreamOutput

  boolean isRegistered() {
    return registered;
  }

  boolean isTerminal() {
    return state().isTerminal();
  }

  int buffered() {
    return bufferedInboundBytes();
  }

  void deliver(ByteBuffer data) {
    receive(data);
  }

  /** The peer's FIN: every byte up to the final size has been handed to Braid. */
  void peerFin() {
    if (registered) {
      receiveFin();
    }
  }

  /** After our STOP_SENDING, the peer's RESET_STREAM answering it: its sending part ended, with no FIN to deliver. */
  void peerEndedInput() {
    if (registered) {
      receiveEndOfInput();
    }
  }

  void peerReset(long code) {
    peerResetCode = code;
    receiveReset(code);
  }

  void readFailed(ConnectionFailedException cause) {
    fail(cause);
  }

  /** Our RESET_STREAM for the stream is queued (kwik's or our own): now stop reading, with the same code. */
  void resetQueued(long code) {
    input.stopReading(code);
    releaseIfIdle();
  }

  /**
   * Reports the peer's STOP_SENDING (writes fail with {@code WriteClosedException(STOPPED_BY_PEER)}), unless the peer
   * has reset the stream as well: a peer's {@code reset(code)} sends RESET_STREAM and STOP_SENDING together (Braid's
   * RESET_STREAM first), and the tap records both before kwik processes the packet, but either pump may see the
   * STOP_SENDING first. The reset then wins: it is left to the receive pump, which handles a reset before a
   * STOP_SENDING, so that pending writes fail with the reset (kit rules E1, F3), not with {@code WriteClosedException}.
   * A RESET_STREAM that answers our own STOP_SENDING is no reset and does not wait.
   *
   * @return false if the STOP_SENDING waits for the peer's reset to be handled first
   */
  boolean peerStoppedSending() {
    if (sig.rxResetSeq != 0 && peerResetCode < 0 && !input.isAnswer(sig.rxResetCode)) {
      input.poke();
      return false;
    }
    if (!peerStopHandled.compareAndSet(false, true)) {
      return true;
    }
    // kwik has answered with RESET_STREAM for our sending part already (StreamManager.process(StopSendingFrame)).
    long code = sig.rxStopSendingCode;
    if (code == StreamResetException.REFUSED && peerResetCode < 0) {
      // The peer refused the stream: it sends RESET_STREAM and STOP_SENDING, both with REFUSED, and this STOP_SENDING came
      // alone (its RESET_STREAM lost or in a later packet). A refusal, not a "stop writing": reads and writes fail with
      // StreamRefusedException at once (the RESET_STREAM, when it comes, finds the stream RESET already).
      peerReset(code);
    } else {
      receiveStopSending(code >= StreamInput.CLOSE_READ_CODE ? code - StreamInput.CLOSE_READ_CODE : code);
    }
    output.poke(); // the send pump lets go of a transmission Braid no longer awaits
    return true;
  }

  /** Drops the stream's entry in the tap once kwik needs it no more (see "End of life" above). Idempotent. */
  void releaseIfIdle() {
    if (finished && input.kwikDone() && output.settled()) {
      quic.forget(sig);
    }
  }
}
