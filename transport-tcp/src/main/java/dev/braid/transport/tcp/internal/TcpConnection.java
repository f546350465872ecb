package dev.braid.transport.tcp.internal;

import dev.braid.Capability;
import dev.braid.ConnectionFailedException;
import dev.braid.MuxedStream;
import dev.braid.StreamStateListener;
import dev.braid.TransportOptions;
import dev.braid.spi.AbstractConnection;
import java.net.URI;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A TCP (or TLS) connection carrying yamux streams. Stream registry, limits, accept queue and the close
 * protocol come from {@link AbstractConnection}; the wire work is the {@link YamuxSession} in the
 * channel's pipeline.
 *
 * <p><b>Thread safety.</b> Thread-safe.
 */
public final class TcpConnection extends AbstractConnection {
  private final YamuxSession session;

  /** The connection's receive-window auto-tuning (tests and diagnostics). */
  WindowTuner windowTuner() {
    return session.windowTuner();
  }

  TcpConnection(YamuxSession session, boolean dialer, URI localAddress, URI remoteAddress,
      Set<Capability> capabilities, TransportOptions options) {
    super("tcp", dialer, localAddress, remoteAddress, capabilities, options);
    this.session = session;
  }

  @Override
  protected CompletableFuture<MuxedStream> doOpenStream(StreamStateListener listener) {
    return session.openStream(listener);
  }

  @Override
  protected void doClose() {
    session.close();
  }

  @Override
  protected void doAbort(Throwable cause) {
    session.abort(cause);
  }

  /**
   * Test hook: closes the socket under this connection abruptly (SO_LINGER 0, so the peer sees a TCP
   * RST), with no go-away, as a crash would.
   */
  public void killSocket() {
    session.kill();
  }

  /** How many of our keep-alive pings the peer answered (for tests and diagnostics). */
  public long keepAliveAnswers() {
    return session.keepAliveAnswers();
  }

  /** Whether the TCP channel is still open (for tests). */
  public boolean isChannelOpen() {
    return session.isChannelOpen();
  }

  // ---------------------------------------------------------------- forwarders
  // The session's classes are not subclasses, so Java's protected access keeps the SPI's methods from them. Each
  // forwarder is named "spi" + the SPI method it calls, and does nothing else (as in TcpMuxedStream).

  boolean spiAddStream(TcpMuxedStream stream) {
    return addStream(stream);
  }

  boolean spiDeliverInbound(TcpMuxedStream stream) {
    return deliverInbound(stream);
  }

  boolean spiMarkEnding(ConnectionFailedException reason) {
    return markEnding(reason);
  }

  ConnectionFailedException spiEndCause() {
    return endCause();
  }

  void spiTerminated(Throwable cause, boolean remote) {
    terminated(cause, remote);
  }
}
