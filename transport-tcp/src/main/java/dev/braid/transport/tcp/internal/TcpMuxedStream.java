package dev.braid.transport.tcp.internal;

import dev.braid.StreamState;
import dev.braid.StreamStateListener;
import dev.braid.spi.AbstractMuxedStream;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * A yamux stream carried by a {@link TcpConnection}. The lifecycle lives in {@link AbstractMuxedStream};
 * this class only moves bytes and flags through the connection's {@link YamuxSession}.
 *
 * <p><b>State mapping.</b> How yamux and the TCP channel become {@link StreamState}:
 * <table>
 *   <caption>yamux / TCP → StreamState</caption>
 *   <tr><th>wire event</th><th>StreamState</th></tr>
 *   <tr><td>we send SYN (Window Update, SYN flag), or receive one and answer ACK</td><td>OPEN at once (yamux
 *       lets either side send before the ACK; there is no OPENING state)</td></tr>
 *   <tr><td>peer answers our SYN with ACK</td><td>no change (OPEN already)</td></tr>
 *   <tr><td>peer answers our SYN with RST carrying the reserved code REFUSED (a Braid peer's limit, accept
 *       backlog or closing)</td><td>RESET (remote): {@code StreamRefusedException}</td></tr>
 *   <tr><td>peer answers our SYN with RST code 0 (how go-yamux and js-yamux refuse; indistinguishable from an
 *       application's early reset)</td><td>RESET (remote, code 0)</td></tr>
 *   <tr><td>FIN received</td><td>OPEN → READ_CLOSED, WRITE_CLOSED → CLOSED; buffered bytes stay readable</td></tr>
 *   <tr><td>{@code closeWrite()}: FIN sent after every queued byte</td><td>OPEN → WRITE_CLOSED, READ_CLOSED → CLOSED</td></tr>
 *   <tr><td>{@code closeRead()}: nothing is sent (yamux cannot say it); inbound bytes are discarded and
 *       their window credit is still returned, so the peer never stalls</td><td>OPEN → READ_CLOSED</td></tr>
 *   <tr><td>RST received (Window Update + RST carries the libp2p error code in the length field; Data + RST
 *       carries code 0)</td><td>RESET (remote, with that code)</td></tr>
 *   <tr><td>{@code reset(code)}: Window Update + RST, length = code</td><td>RESET (local)</td></tr>
 *   <tr><td>send window 0 (peer has not granted credit)</td><td>no change; writes wait (backpressure)</td></tr>
 *   <tr><td>peer sends beyond our receive window, data after FIN, or any malformed frame</td><td>the
 *       connection fails with {@code ProtocolException}: every live stream FAILED</td></tr>
 *   <tr><td>a late frame for a stream that already ended here</td><td>ignored</td></tr>
 *   <tr><td>go-away received (normal, 0)</td><td>no change; no new streams; once the last stream ended the
 *       connection closes; when TCP closes: FAILED ({@code ConnectionClosedException}, remote)</td></tr>
 *   <tr><td>go-away received (protocol error 1, internal error 2)</td><td>FAILED at once, naming the code</td></tr>
 *   <tr><td>channel inactive, I/O exception, idle timeout, TLS failure</td><td>FAILED (with the cause)</td></tr>
 *   <tr><td>{@code Connection.close()}: streams already CLOSED finish sending (bounded), then go-away is
 *       flushed and the channel closed</td><td>FAILED ({@code ConnectionClosedException}, local) for streams
 *       not yet terminal</td></tr>
 * </table>
 * A stream that is CLOSED for Braid but whose yamux half-close is not complete (our FIN is still behind
 * queued data, or the peer has not sent FIN after our {@code closeRead()}) stays in the session until both FINs
 * passed; {@link AbstractMuxedStream} bounds that by the connection's idle timeout, then resets it on the wire
 * (code {@code INTERNAL_ERROR}), as it does a stream that fails while its connection is open. The session
 * forgets the stream when the wire says it is gone (both FINs, or a RST either way) or when the base class
 * calls {@link #onFinished()}, whichever comes first.
 *
 * <p><b>Thread safety.</b> Thread-safe (as {@link AbstractMuxedStream}). Its yamux wire state is its
 * {@link StreamWire}, which says which thread touches what. The futures {@code read}/{@code write} return may
 * be completed on the connection's event loop; the base class keeps application continuations off it.
 */
public final class TcpMuxedStream extends AbstractMuxedStream {
  private final YamuxSession session;
  private final StreamWire wire;

  TcpMuxedStream(TcpConnection connection, YamuxSession session, long id, boolean locallyInitiated,
      WindowTuner tuner, StreamStateListener listener) {
    super(connection, id, locallyInitiated, false, listener);
    this.session = session;
    this.wire = new StreamWire(id, tuner);
  }

  StreamWire wire() {
    return wire;
  }

  /** Received bytes the application has not read yet (tests and diagnostics). */
  int buffered() {
    return bufferedInboundBytes();
  }

  // ---------------------------------------------------------------- hooks: each goes to the session method of its name

  @Override
  protected CompletableFuture<Void> transmit(ByteBuffer data) {
    return session.transmit(this, data);
  }

  @Override
  protected void transmitFin() {
    session.transmitFin(this);
  }

  @Override
  protected void transmitReset(long code) {
    session.transmitReset(this, code);
  }

  @Override
  protected void consumed(int bytes) {
    session.consumed(this, bytes);
  }

  @Override
  protected void onFinished() {
    session.onFinished(this);
  }

  // ---------------------------------------------------------------- forwarders
  // The session's classes are not subclasses, so Java's protected access keeps the SPI's inbound notifications
  // from them. Each forwarder is named "spi" + the SPI method it calls, and does nothing else (as in TcpConnection).

  void spiReceiveCopy(ByteBuffer data) {
    receiveCopy(data);
  }

  void spiReceiveFin() {
    receiveFin();
  }

  void spiReceiveReset(long code) {
    receiveReset(code);
  }

  void spiRefuse(String why) {
    refuse(why);
  }
}
