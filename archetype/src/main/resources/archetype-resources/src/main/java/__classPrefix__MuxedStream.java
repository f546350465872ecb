package ${package};

import dev.braid.StreamState;
import dev.braid.StreamStateListener;
import dev.braid.spi.AbstractMuxedStream;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * A {@code ${scheme}} stream. The lifecycle (states, atomic check-then-act, listeners, the receive buffer, the send
 * queue, the blocking views, the linger bound, end of life on the wire) is {@link AbstractMuxedStream}'s; this
 * class puts the stream's bytes and signals on the wire (the {@code transmit} hooks below) and reports what arrives:
 * <ul>
 *   <li>{@code receive(buffer)} or {@code receiveCopy(buffer)}: bytes, in order, within the window we granted
 *       (D1-D4, B1);</li>
 *   <li>{@code receiveFin()}: the peer's FIN (H1, H2, H4);</li>
 *   <li>{@code receiveReset(code)}: the peer's reset; the reserved code {@code REFUSED} is a refusal (C2, C3, N8);</li>
 *   <li>{@code receiveStopSending(code)}: the peer's closeRead, with STOP_SENDING (H6);</li>
 *   <li>{@code receiveEndOfInput()}: after our closeRead, the peer ended its side without a FIN we could deliver;</li>
 *   <li>{@code opened()}: with OPENING_STATE, the stream became usable (O2); {@code fail(cause)}: an error on this
 *       stream alone.</li>
 * </ul>
 * Those notifications may be called from any thread, in wire order for one stream, but never while holding a lock
 * that the hooks below take: they may call the hooks on the calling thread. The hooks are called one at a time for a
 * stream, never under a Braid lock, and must not block (SPEC.md section 7, docs/threads.md).
 */
final class ${classPrefix}MuxedStream extends AbstractMuxedStream {

  /**
   * @param locallyInitiated whether this end opened the stream
   * @param listener a listener that sees the first transition (the one {@code openStream} was given); may be null
   */
  ${classPrefix}MuxedStream(${classPrefix}Connection connection, long id, boolean locallyInitiated,
      StreamStateListener listener) {
    // false: the stream is OPEN at once. With OPENING_STATE, pass true and call opened() when the peer accepted it.
    super(connection, id, locallyInitiated, false, listener);
  }

  /**
   * TODO Sends {@code data}'s remaining bytes, in order, within the peer's flow-control window, and completes the
   * future once every byte was accepted (a write waits while the window is closed); complete it exceptionally only
   * for a transport failure. Called again only after the previous future completed. Rules D1-D4, B1, H1, H7, H8, F1,
   * F3, F5.
   */
  @Override
  protected CompletableFuture<Void> transmit(ByteBuffer data) {
    throw new UnsupportedOperationException("${classPrefix}MuxedStream.transmit is not implemented: send the bytes "
        + "within the peer's window and complete the future once all were accepted (SPEC.md D1-D4, B1, H1, H7, H8)");
  }

  /**
   * TODO Sends the FIN, after every byte transmitted before it (never ahead of bytes still queued in the transport:
   * H8). Rules H1, H2, H3, H8, C1, E3, F5.
   */
  @Override
  protected void transmitFin() {
    throw new UnsupportedOperationException("${classPrefix}MuxedStream.transmitFin is not implemented: send FIN "
        + "after every byte transmitted before (SPEC.md H1, H2, H3, H8, C1, F5)");
  }

  /**
   * TODO Aborts the stream on the wire with {@code code} (RST, RESET_STREAM; plus STOP_SENDING where the protocol
   * has it), abandoning a {@code transmit} still pending; may come once after {@code transmitFin} (R2). Carry the
   * code where the protocol can (capability RESET_CODES). Rules C2-C6, E1, R1-R3, F1, F3.
   */
  @Override
  protected void transmitReset(long code) {
    throw new UnsupportedOperationException("${classPrefix}MuxedStream.transmitReset is not implemented: send a "
        + "reset with code " + code + " and abandon any pending transmit (SPEC.md C2-C6, R1, R2, F1)");
  }

  /**
   * TODO With capability STOP_SENDING only (never called otherwise): tells the peer we stopped reading; the peer
   * calls {@code receiveStopSending(code)}. Rule H6.
   */
  @Override
  protected void transmitStopSending(long code) {
    throw new UnsupportedOperationException("${classPrefix}MuxedStream.transmitStopSending is not implemented, yet "
        + "the provider declares STOP_SENDING: tell the peer to stop sending (SPEC.md H6)");
  }

  /**
   * TODO The application read (or closeRead discarded) {@code bytes}: grant the peer that much more window, so that
   * a writer held by flow control goes on, also after our closeRead. Rules B1, H7, D2, F1.
   */
  @Override
  protected void consumed(int bytes) {
    throw new UnsupportedOperationException("${classPrefix}MuxedStream.consumed is not implemented: return " + bytes
        + " bytes of flow-control credit to the peer (SPEC.md B1, H7)");
  }

  /**
   * Optional: the stream reached {@code finalState} (it may still be flushing; free resources in
   * {@link #onFinished()}).
   */
  @Override
  protected void onTerminated(StreamState finalState) {}

  /**
   * TODO The stream is finished on the wire (terminal, nothing more to send or to hear): forget it in the
   * connection's table of stream ids and free what it holds. Must let a FIN or reset the transport queued go out
   * first. Rules N3, N7 (no memory kept per closed stream), W2.
   */
  @Override
  protected void onFinished() {
    throw new UnsupportedOperationException("${classPrefix}MuxedStream.onFinished is not implemented: forget stream "
        + id() + " and free its resources (SPEC.md N3, N7)");
  }
}
