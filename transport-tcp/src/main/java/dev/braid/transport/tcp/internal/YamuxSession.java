package dev.braid.transport.tcp.internal;

import static dev.braid.transport.tcp.internal.YamuxFrame.FLAG_FIN;
import static dev.braid.transport.tcp.internal.YamuxFrame.FLAG_RST;
import static dev.braid.transport.tcp.internal.YamuxFrame.FLAG_SYN;
import static dev.braid.transport.tcp.internal.YamuxFrame.INITIAL_WINDOW;
import static dev.braid.transport.tcp.internal.YamuxFrame.TYPE_DATA;
import static dev.braid.transport.tcp.internal.YamuxFrame.TYPE_GO_AWAY;
import static dev.braid.transport.tcp.internal.YamuxFrame.TYPE_PING;
import static dev.braid.transport.tcp.internal.YamuxFrame.TYPE_WINDOW_UPDATE;

import dev.braid.Capability;
import dev.braid.ConnectionFailedException;
import dev.braid.MuxedStream;
import dev.braid.ProtocolException;
import dev.braid.StreamRefusedException;
import dev.braid.StreamStateListener;
import dev.braid.TransportOptions;
import dev.braid.transport.tcp.TcpOptions;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;

/**
 * The yamux session of one TCP channel: the last handler of its pipeline. It dispatches inbound frames and
 * the streams' outbound hooks to its parts, each a class of this package: {@link StreamTable} (ids, accept and
 * refusal, the table), {@link FlowControl} (windows both ways, the send queue waiting for credit),
 * {@link SessionShutdown} (keep-alive, go-away, graceful and abrupt ends) and {@link SessionIo} (the channel,
 * ordered work on the event loop). Each stream's wire state is its {@link StreamWire}.
 *
 * <p><b>End of life on the wire.</b> Yamux forgets a stream once it sent and received FIN, or sent or received
 * RST; the session does exactly that ({@link #forget}), and also when {@code AbstractMuxedStream} says the
 * stream is finished ({@link #onFinished}): the base class bounds how long a terminal stream may linger and
 * resets it on the wire for us, so the session keeps no timers and no end-of-life flags of its own. Frames for
 * a stream that left the table are ignored.
 *
 * <p><b>Thread safety.</b> Its state is confined to the channel's event loop: every entry point from other
 * threads hops onto it, with one exception, the transmit fast path, which reserves window (atomically) and
 * hands its frames to Netty from the caller's thread. <b>Frame order.</b> The frames of one stream reach the
 * channel in the order of the stream's operations ({@link SessionIo#runOrdered}). It holds no locks, so the
 * {@code AbstractMuxedStream} callbacks it makes are never under one.
 */
final class YamuxSession extends ChannelDuplexHandler {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.tcp");
  /**
   * Outbound bytes queued beyond the low-water mark at which a peer that keeps sending (pings, window
   * updates to answer) while not reading ours is cut off. Data frames stop at the high-water mark long
   * before this; only control-frame answers can pile up here.
   */
  private static final long MAX_OUTBOUND_BACKLOG = 16L * 1024 * 1024;

  private final boolean dialer;
  private final boolean tls;
  private final TransportOptions options;
  private final Set<Capability> capabilities;
  private final long receiveWindow;
  private final Consumer<TcpConnection> onReady;
  private final Consumer<Throwable> onFailedBeforeReady;
  private final SessionIo io;
  private final StreamTable table;
  private final FlowControl flow;
  private final SessionShutdown shutdown;
  private final WindowTuner tuner;

  // Event loop only.
  private boolean announced;
  private boolean rttPinged;

  YamuxSession(boolean dialer, boolean tls, TransportOptions options, Set<Capability> capabilities,
      Consumer<TcpConnection> onReady, Consumer<Throwable> onFailedBeforeReady) {
    this.dialer = dialer;
    this.tls = tls;
    this.options = options;
    this.capabilities = capabilities;
    this.receiveWindow = Math.max(INITIAL_WINDOW, options.receiveWindow());
    this.onReady = onReady;
    this.onFailedBeforeReady = onFailedBeforeReady;
    this.io = new SessionIo(this::failConnection);
    this.tuner = new WindowTuner(receiveWindow, options.get(TcpOptions.MAX_STREAM_WINDOW),
        options.get(TcpOptions.WINDOW_BUDGET));
    this.table = new StreamTable(dialer, options, tuner, io);
    this.flow = new FlowControl(io, Math.min(options.maxFrameSize(), 64 * 1024));
    this.shutdown = new SessionShutdown(io, table, flow, tuner);
  }

  /** The session's receive-window auto-tuning (tests and diagnostics). */
  WindowTuner windowTuner() {
    return tuner;
  }

  /** A task of the session failed (an internal error): the connection ends. */
  private void failConnection(ConnectionFailedException cause) {
    shutdown.failConnection(cause);
  }

  /**
   * The largest Data payload we accept: never less than the largest window we may grant, since a yamux peer may send
   * a whole window in one frame (the npm yamux muxer does); the stream's window is checked when the frame arrives.
   */
  static long maxInboundDataLength(TransportOptions options) {
    long base = Math.max(INITIAL_WINDOW, options.receiveWindow());
    long grown = options.get(TcpOptions.WINDOW_BUDGET) > 0 ? options.get(TcpOptions.MAX_STREAM_WINDOW) : base;
    return Math.max(options.maxFrameSize(), Math.max(base, grown));
  }

  // ---------------------------------------------------------------- pipeline events

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    io.attach(ctx);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    String scheme = tls ? "tcp+tls" : "tcp";
    // The connection reports the window yamux really grants (never below its 256 KiB initial window).
    TransportOptions effective = options.receiveWindow() == receiveWindow ? options
        : options.toBuilder().receiveWindow((int) receiveWindow).build();
    io.connected(new TcpConnection(this, dialer, TcpAddress.uri(scheme, ctx.channel().localAddress()),
        TcpAddress.uri(scheme, ctx.channel().remoteAddress()), capabilities, effective));
    shutdown.startKeepAlive(options.keepAliveInterval());
    if (!tls) {
      announce();
    }
    ctx.fireChannelActive();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof SslHandshakeCompletionEvent e) {
      if (e.isSuccess()) {
        announce();
      } else {
        shutdown.failConnection(new ConnectionFailedException("TLS handshake failed: " + e.cause().getMessage(),
            e.cause()));
      }
    } else if (evt instanceof IdleStateEvent) {
      shutdown.onIdle(options.idleTimeout());
    }
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof YamuxFrame frame)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    try {
      if (io.connection() != null && !shutdown.discarding()) { // after go-away: read and discard (linger)
        onFrame(frame);
      }
    } catch (ProtocolException e) {
      shutdown.protocolError(e);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "yamux session failed handling " + frame + " on " + io.connection(), e);
      shutdown.failConnection(new ConnectionFailedException("internal error handling " + frame + ": " + e, e));
    } finally {
      frame.release();
    }
    long backlog = outboundBacklog(ctx);
    if (!shutdown.discarding() && backlog > MAX_OUTBOUND_BACKLOG) {
      shutdown.protocolError(new ProtocolException("yamux: the peer keeps sending but does not read: "
          + backlog + " bytes of answers are queued for it"));
    }
  }

  /**
   * Bytes queued for the peer and not yet written to the socket. Not {@code bytesBeforeWritable()}: that
   * is {@code Long.MAX_VALUE} once the channel is closing and its outbound buffer is gone, which made a
   * closing connection look like a peer that never reads.
   */
  static long outboundBacklog(ChannelHandlerContext ctx) {
    ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
    return out == null ? 0 : out.totalPendingWriteBytes();
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    flow.drain();
    io.flushIfNeeded();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      flow.drain();
      io.flushIfNeeded();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (io.isGoAwaySent()) {
      // After our go-away: a late write (an application thread's fast-path write, a timer's) fails on the
      // half-closed socket; closing now would bring back the reset the linger avoids. A read error closes the
      // channel by itself; the linger and backstop timers bound the rest.
      LOG.log(System.Logger.Level.DEBUG, "{0}: error after go-away, ignored while lingering: {1}", io.connection(),
          cause);
      return;
    }
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof ProtocolException p) {
        shutdown.protocolError(p);
        return;
      }
    }
    if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
      LOG.log(System.Logger.Level.DEBUG, "I/O error on " + io.connection(), cause);
    }
    String what = cause instanceof SSLException ? "TLS error: " : "connection lost: ";
    shutdown.failConnection(new ConnectionFailedException(what + cause.getMessage(), cause));
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    SessionShutdown.Ending ending = shutdown.channelClosed();
    if (!announced) {
      announced = true;
      Throwable c = ending.cause() != null ? ending.cause()
          : new ConnectionFailedException("connection closed during setup", null);
      io.safely(() -> onFailedBeforeReady.accept(c));
    }
    TcpConnection connection = io.connection();
    if (connection != null) {
      // Every live stream FAILED with the connection's cause (each is then finished: see onFinished()).
      io.safely(() -> connection.spiTerminated(ending.cause(), ending.remote()));
    }
    table.clear();
    flow.clear();
    ctx.fireChannelInactive();
  }

  private void announce() {
    if (announced) {
      return;
    }
    announced = true;
    TcpConnection connection = io.connection();
    io.safely(() -> onReady.accept(connection));
  }

  /**
   * With the first stream, one ping measures the round trip the window auto-tuning needs (keep-alive pings measure it
   * again later); an idle connection sends none.
   */
  private void measureRttOnce() {
    if (!rttPinged && tuner.enabled()) {
      rttPinged = true;
      shutdown.sendPing();
    }
  }

  // ---------------------------------------------------------------- inbound frames

  private void onFrame(YamuxFrame f) throws ProtocolException {
    switch (f.type()) {
      case TYPE_PING -> shutdown.onPing(f.flags(), f.length());
      case TYPE_GO_AWAY -> shutdown.onGoAway(f.length());
      default -> onStreamFrame(f);
    }
  }

  private void onStreamFrame(YamuxFrame f) throws ProtocolException {
    long id = f.streamId();
    int flags = f.flags();
    TcpMuxedStream s;
    boolean fresh = (flags & FLAG_SYN) != 0;
    if (fresh) {
      s = table.acceptRemote(this, id, shutdown.refusesStreams());
      if (s == null) {
        return; // refused with RST; the frame's payload is dropped
      }
      measureRttOnce();
    } else {
      s = table.get(id);
      if (s == null) {
        if (table.wasUsed(id)) {
          return; // a late frame for a stream that ended here: ignore it
        }
        throw new ProtocolException("yamux: " + YamuxFrame.typeName(f.type()) + " frame (flags "
            + YamuxFrame.flagNames(flags) + ") for unknown stream " + id);
      }
    }
    StreamWire w = s.wire();
    if (f.type() == TYPE_DATA) {
      long n = f.length();
      if (n > 0) {
        w.receive(n);
        // A view of Netty's buffer: the stream copies it, straight into a waiting read's buffer where it can.
        s.spiReceiveCopy(f.data().nioBuffer());
      }
    } else if ((flags & FLAG_RST) == 0) {
      flow.windowUpdate(w, f.length());
    }
    if ((flags & FLAG_RST) != 0) {
      // Braid refuses with the reserved code REFUSED (a StreamRefusedException here). go-yamux and js-yamux refuse
      // with a plain RST (code 0) before any ACK, which an application's early reset also is (js-yamux sends no
      // ACK with a reset): that stays a plain reset, code 0.
      s.spiReceiveReset(f.type() == TYPE_WINDOW_UPDATE ? f.length() : 0); // first: parked writes fail with the reset
      forget(s); // RST received: gone on the wire
      return;
    }
    if ((flags & FLAG_FIN) != 0 && w.receiveFin()) {
      s.spiReceiveFin();
      if (w.bothFins()) {
        forget(s); // FIN sent and received: gone on the wire
      }
    }
    if (fresh && !w.isRemoved()) {
      table.offerInbound(s);
    }
  }

  // ---------------------------------------------------------------- for TcpConnection (any thread)

  CompletableFuture<MuxedStream> openStream(StreamStateListener listener) {
    CompletableFuture<MuxedStream> result = new CompletableFuture<>();
    io.run(() -> {
      if (!shutdown.mayOpen()) {
        ConnectionFailedException e = io.connection().spiEndCause();
        result.completeExceptionally(e != null ? e : new ConnectionFailedException("the connection is closing", null));
        return;
      }
      try {
        TcpMuxedStream s = table.openLocal(this, listener);
        measureRttOnce();
        result.complete(s);
      } catch (StreamRefusedException e) {
        result.completeExceptionally(e);
      }
    }, result);
    return result;
  }

  void close() {
    shutdown.close();
  }

  void abort(Throwable cause) {
    shutdown.abort(cause);
  }

  void kill() {
    shutdown.kill();
  }

  long keepAliveAnswers() {
    return shutdown.pongs();
  }

  boolean isChannelOpen() {
    return io.ctx() != null && io.ctx().channel().isOpen();
  }

  // ---------------------------------------------------------------- for TcpMuxedStream's hooks (any thread)

  CompletableFuture<Void> transmit(TcpMuxedStream s, ByteBuffer data) {
    return flow.transmit(s.wire(), data);
  }

  void transmitFin(TcpMuxedStream s) {
    StreamWire w = s.wire();
    io.runOrdered(w, () -> {
      if (!w.sendFin()) {
        return;
      }
      io.writeControl(TYPE_WINDOW_UPDATE, FLAG_FIN, s.id(), 0);
      io.flushIfNeeded();
      if (w.bothFins()) {
        forget(s); // FIN sent and received: gone on the wire
      }
      shutdown.finishCloseIfFlushed();
    }, null);
  }

  /** Also the base class's INTERNAL_ERROR reset of a stream that failed alone or lingered past its bound. */
  void transmitReset(TcpMuxedStream s, long code) {
    StreamWire w = s.wire();
    io.runOrdered(w, () -> {
      if (w.isRemoved()) {
        return;
      }
      io.writeControl(TYPE_WINDOW_UPDATE, FLAG_RST, s.id(), code);
      io.flushIfNeeded();
      forget(s); // RST sent: gone on the wire (a parked transmit is abandoned)
    }, null);
  }

  void consumed(TcpMuxedStream s, int bytes) {
    flow.consumed(s.wire(), bytes);
  }

  /** {@code AbstractMuxedStream.onFinished}: nothing more goes to or comes from the wire for the stream. */
  void onFinished(TcpMuxedStream s) {
    io.runOrdered(s.wire(), () -> forget(s), null); // after the stream's last frame (its FIN or RST)
  }

  // ---------------------------------------------------------------- the end of a stream (event loop)

  /** The stream leaves the session: frames for it are ignored from now on. Idempotent. */
  private void forget(TcpMuxedStream s) {
    if (table.remove(s)) {
      shutdown.streamGone();
    }
  }
}
