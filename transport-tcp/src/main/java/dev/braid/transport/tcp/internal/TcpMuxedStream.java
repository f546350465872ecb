package dev.braid.transport.tcp.internal;

import dev.braid.StreamState;
import dev.braid.StreamStateListener;
import dev.braid.spi.AbstractMuxedStream;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

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
 * queued data, or the peer has not sent FIN after our {@code closeRead()}) stays in the session until
 * both FINs passed; after the connection's idle timeout it is reset on the wire.
 *
 * <p><b>Thread safety.</b> Thread-safe (as {@link AbstractMuxedStream}). The yamux fields below are
 * confined to the connection's event loop. Futures returned by {@code read}/{@code write} complete on
 * that event loop: continuations must not block.
 */
public final class TcpMuxedStream extends AbstractMuxedStream {
  private final YamuxSession session;

  /**
   * The peer's window for us. Grown by the event loop (window updates), reserved by whichever thread
   * sends: the event loop's drain or a caller's fast path, never both at once (one transmit at a time).
   */
  final AtomicLong sendWindow = new AtomicLong(YamuxFrame.INITIAL_WINDOW);
  /**
   * This stream's outbound operations (data, FIN, RST) handed to the event loop's task queue and not yet run
   * there; while any are queued, later ones queue behind them instead of running inline on the loop.
   */
  final AtomicInteger queuedOps = new AtomicInteger();
  /** Cleared by the event loop once the stream left the session: no more fast-path sends. */
  volatile boolean fastPathOpen = true;

  // Event loop only.
  long recvWindow;
  /** Bytes the application consumed that we have not granted back yet (any thread adds, the event loop takes). */
  final AtomicLong credit = new AtomicLong();
  ByteBuffer sendBuf;
  CompletableFuture<Void> sendFuture;
  boolean queued;
  boolean finSent;
  boolean finReceived;
  boolean removed;
  ScheduledFuture<?> linger;

  TcpMuxedStream(TcpConnection connection, YamuxSession session, long id, boolean locallyInitiated,
      long receiveWindow, StreamStateListener listener) {
    super(connection, id, locallyInitiated, false, listener);
    this.session = session;
    this.recvWindow = receiveWindow;
  }

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
  protected void onTerminated(StreamState finalState) {
    session.streamTerminated(this, finalState);
  }

  void deliverData(ByteBuffer data) {
    receive(data);
  }

  void deliverFin() {
    receiveFin();
  }

  void deliverReset(long code) {
    receiveReset(code);
  }

  void deliverFailure(Throwable cause) {
    fail(cause);
  }

  void refuseInbound(String why) {
    refuse("refused stream " + id() + ": " + why);
  }
}
