package dev.braid.transport.tcp.internal;

import static dev.braid.transport.tcp.internal.YamuxFrame.FLAG_ACK;
import static dev.braid.transport.tcp.internal.YamuxFrame.FLAG_FIN;
import static dev.braid.transport.tcp.internal.YamuxFrame.FLAG_RST;
import static dev.braid.transport.tcp.internal.YamuxFrame.FLAG_SYN;
import static dev.braid.transport.tcp.internal.YamuxFrame.INITIAL_WINDOW;
import static dev.braid.transport.tcp.internal.YamuxFrame.MAX_UINT32;
import static dev.braid.transport.tcp.internal.YamuxFrame.TYPE_DATA;
import static dev.braid.transport.tcp.internal.YamuxFrame.TYPE_GO_AWAY;
import static dev.braid.transport.tcp.internal.YamuxFrame.TYPE_PING;
import static dev.braid.transport.tcp.internal.YamuxFrame.TYPE_WINDOW_UPDATE;

import dev.braid.Capability;
import dev.braid.ConnectionClosedException;
import dev.braid.ConnectionFailedException;
import dev.braid.ConnectionTimedOutException;
import dev.braid.MuxedStream;
import dev.braid.ProtocolException;
import dev.braid.StreamRefusedException;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.StreamStateListener;
import dev.braid.TransportOptions;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The yamux session of one TCP channel: the last handler of its pipeline. It owns the stream table,
 * the per-stream send and receive windows, stream id allocation and validation, keep-alive pings,
 * go-away, and the end of the connection.
 *
 * <p><b>Flow control is the backpressure.</b> A {@code transmit} is parked on its stream until the
 * peer's window has room; the session then cuts it into Data frames no longer than the window and the
 * outbound frame size, copies each into a direct buffer and writes it, but only while the channel is
 * writable (so Netty's outbound buffer never grows past its high-water mark plus one frame). The
 * transmit future completes once the last byte was handed to the channel: the caller may then reuse its
 * buffer. Inbound, a peer that sends more than the window we granted is a protocol error; received bytes
 * are handed to the stream, which grants the window back as the application consumes them (batched:
 * an update goes out once half the window was consumed).
 *
 * <p><b>Thread safety.</b> Its state is confined to the channel's event loop: every entry point from other
 * threads hops onto it, with one exception, the transmit fast path, which reserves window (atomically) and
 * hands its frames to Netty from the caller's thread. <b>Frame order.</b> The frames of one stream reach the
 * channel in the order of the stream's operations: an operation runs inline only on the event loop and only
 * when none of the stream's earlier operations is still queued for it ({@code runOrdered}). It holds no
 * locks, so the {@code AbstractMuxedStream} callbacks it makes are never under one.
 */
final class YamuxSession extends ChannelDuplexHandler {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.tcp");
  private static final long CLOSE_FLUSH_TIMEOUT_MILLIS = 5_000;
  /** How long a closing connection reads, discarding, while it waits for the peer to close its side. */
  static final long LINGER_MILLIS = 5_000;
  /** Largest transmit sent on the caller's thread; bounds what one writer can add past the high-water mark. */
  private static final int FAST_PATH_MAX = 1024 * 1024;
  /** How many of the peer's ended stream ids are remembered to detect a reused id. */
  private static final int RECENTLY_CLOSED = 1024;
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
  private final int outboundFrameSize;
  private final Consumer<TcpConnection> onReady;
  private final Consumer<Throwable> onFailedBeforeReady;

  // Event loop only.
  private ChannelHandlerContext ctx;
  private TcpConnection connection;
  private boolean announced;
  private final Map<Long, TcpMuxedStream> streams = new HashMap<>();
  private final ArrayDeque<TcpMuxedStream> sendReady = new ArrayDeque<>();
  /** Ids of the peer's streams that ended here lately, to tell a reused id from a late SYN (bounded). */
  private final java.util.LinkedHashSet<Long> recentlyClosedRemote = new java.util.LinkedHashSet<>();
  private long nextLocalId;
  private long highestRemoteId;
  private boolean draining;
  private boolean flushNeeded;
  private boolean closing;
  private boolean localGoAway;
  private boolean goAwaySent;
  private long remoteGoAway = -1;
  private Throwable endCause;
  private long nextPingId;
  private long outstandingPing = -1;
  private volatile long pongs; // written by the event loop only
  private ScheduledFuture<?> keepAlive;
  private boolean loggedStreamLimit;
  private boolean loggedBacklogFull;

  YamuxSession(boolean dialer, boolean tls, TransportOptions options, Set<Capability> capabilities,
      Consumer<TcpConnection> onReady, Consumer<Throwable> onFailedBeforeReady) {
    this.dialer = dialer;
    this.tls = tls;
    this.options = options;
    this.capabilities = capabilities;
    this.receiveWindow = Math.max(INITIAL_WINDOW, options.receiveWindow());
    this.outboundFrameSize = Math.min(options.maxFrameSize(), 64 * 1024);
    this.onReady = onReady;
    this.onFailedBeforeReady = onFailedBeforeReady;
    this.nextLocalId = dialer ? 1 : 2;
  }

  /** The largest Data payload we accept: never less than a full window, which any yamux peer may send. */
  static long maxInboundDataLength(TransportOptions options) {
    return Math.max(options.maxFrameSize(), Math.max(INITIAL_WINDOW, options.receiveWindow()));
  }

  // ---------------------------------------------------------------- pipeline events

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    String scheme = tls ? "tcp+tls" : "tcp";
    // The connection reports the window yamux really grants (never below its 256 KiB initial window).
    TransportOptions effective = options.receiveWindow() == receiveWindow ? options
        : options.toBuilder().receiveWindow((int) receiveWindow).build();
    connection = new TcpConnection(this, dialer, uri(scheme, ctx.channel().localAddress()),
        uri(scheme, ctx.channel().remoteAddress()), capabilities, effective);
    Duration interval = options.keepAliveInterval();
    if (!interval.isZero()) {
      long millis = Math.max(1, interval.toMillis());
      keepAlive = ctx.executor().scheduleAtFixedRate(guarded(this::sendKeepAlive), millis, millis, TimeUnit.MILLISECONDS);
    }
    if (!tls) {
      announce();
    }
    ctx.fireChannelActive();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof SslHandshakeCompletionEvent) {
      SslHandshakeCompletionEvent e = (SslHandshakeCompletionEvent) evt;
      if (e.isSuccess()) {
        announce();
      } else {
        failConnection(new ConnectionFailedException("TLS handshake failed: " + e.cause().getMessage(), e.cause()));
      }
    } else if (evt instanceof IdleStateEvent && !goAwaySent) { // while lingering, the linger timer bounds it
      failConnection(new ConnectionTimedOutException("idle timeout: nothing received for "
          + options.idleTimeout().toMillis() + " ms" + (keepAlive != null ? " (keep-alive pings unanswered)" : ""), null));
    }
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof YamuxFrame)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    YamuxFrame frame = (YamuxFrame) msg;
    try {
      if (endCause == null && connection != null && !goAwaySent) { // after go-away: read and discard (linger)
        handleFrame(frame);
      }
    } catch (ProtocolException e) {
      protocolError(e);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "yamux session failed handling " + frame + " on " + connection, e);
      failConnection(new ConnectionFailedException("internal error handling " + frame + ": " + e, e));
    } finally {
      frame.release();
    }
    long backlog = outboundBacklog(ctx);
    if (endCause == null && !goAwaySent && backlog > MAX_OUTBOUND_BACKLOG) {
      protocolError(new ProtocolException("yamux: the peer keeps sending but does not read: "
          + backlog + " bytes of answers are queued for it"));
    }
  }

  /**
   * Bytes queued for the peer and not yet written to the socket. Not {@code bytesBeforeWritable()}: that
   * is {@code Long.MAX_VALUE} once the channel is closing and its outbound buffer is gone, which made a
   * closing connection look like a peer that never reads.
   */
  static long outboundBacklog(ChannelHandlerContext ctx) {
    io.netty.channel.ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
    return out == null ? 0 : out.totalPendingWriteBytes();
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    drain();
    flushIfNeeded();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      drain();
      flushIfNeeded();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (goAwaySent) {
      // After our go-away: a late write (an application thread's fast-path write, a timer's) fails on the
      // half-closed socket; closing now would bring back the reset the linger avoids. A read error closes the
      // channel by itself; the linger and backstop timers bound the rest.
      LOG.log(System.Logger.Level.DEBUG, "{0}: error after go-away, ignored while lingering: {1}", connection, cause);
      return;
    }
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof ProtocolException) {
        protocolError((ProtocolException) t);
        return;
      }
    }
    if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
      LOG.log(System.Logger.Level.DEBUG, "I/O error on " + connection, cause);
    }
    String what = cause instanceof javax.net.ssl.SSLException ? "TLS error: " : "connection lost: ";
    failConnection(new ConnectionFailedException(what + cause.getMessage(), cause));
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (keepAlive != null) {
      keepAlive.cancel(false);
    }
    Throwable cause;
    boolean remote;
    if (endCause != null) {
      cause = endCause;
      remote = false;
    } else if (remoteGoAway == YamuxFrame.GO_AWAY_NORMAL) {
      cause = null;
      remote = true;
    } else if (localGoAway) {
      cause = null;
      remote = false;
    } else if (remoteGoAway > 0) {
      cause = new ConnectionFailedException("the peer ended the connection with yamux go-away "
          + YamuxFrame.goAwayName(remoteGoAway), null);
      remote = true;
    } else {
      cause = new ConnectionFailedException("the peer closed the TCP connection without a yamux go-away", null);
      remote = true;
    }
    if (!announced) {
      announced = true;
      Throwable c = cause != null ? cause : new ConnectionFailedException("connection closed during setup", null);
      safely(() -> onFailedBeforeReady.accept(c));
    }
    if (connection != null) {
      TcpConnection conn = connection;
      safely(() -> conn.ended(cause, remote)); // every live stream FAILED with the connection's cause
    }
    for (TcpMuxedStream s : new ArrayList<>(streams.values())) {
      remove(s);
    }
    sendReady.clear();
    ctx.fireChannelInactive();
  }

  private void announce() {
    if (announced) {
      return;
    }
    announced = true;
    TcpConnection conn = connection;
    safely(() -> onReady.accept(conn));
  }

  // ---------------------------------------------------------------- inbound frames

  private void handleFrame(YamuxFrame f) throws ProtocolException {
    switch (f.type) {
      case TYPE_PING:
        if (f.flags == FLAG_SYN) {
          writeControl(TYPE_PING, FLAG_ACK, 0, f.length);
        } else if (f.length == outstandingPing) {
          outstandingPing = -1;
          pongs++;
        } else if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
          LOG.log(System.Logger.Level.DEBUG, "{0}: unmatched ping response {1}", connection, f.length);
        }
        return;
      case TYPE_GO_AWAY:
        handleGoAway(f.length);
        return;
      default:
        handleStreamFrame(f);
    }
  }

  private void handleGoAway(long code) {
    remoteGoAway = code;
    if (code == YamuxFrame.GO_AWAY_NORMAL) {
      connection.beginEnding(new ConnectionClosedException("the peer is closing the connection (yamux go-away)", true));
      closeIfDone();
    } else {
      failConnection(new ConnectionFailedException("the peer ended the connection with yamux go-away "
          + YamuxFrame.goAwayName(code), null));
    }
  }

  private void handleStreamFrame(YamuxFrame f) throws ProtocolException {
    long id = f.streamId;
    int flags = f.flags;
    TcpMuxedStream s = streams.get(id);
    boolean fresh = false;
    if ((flags & FLAG_SYN) != 0) {
      if (isLocalParity(id)) {
        throw new ProtocolException("yamux: the peer opened stream " + id + " with the wrong parity (the "
            + (dialer ? "listener uses even ids" : "dialer uses odd ids") + ")");
      }
      if (s != null || recentlyClosedRemote.contains(id)) {
        throw new ProtocolException("yamux: the peer reused stream id " + id);
      }
      // Ids need not arrive in order (go-yamux allocates under a lock but sends the SYN after it).
      highestRemoteId = Math.max(highestRemoteId, id);
      s = acceptRemote(id);
      if (s == null) {
        return; // refused with RST; the frame's payload is dropped
      }
      fresh = true;
    } else if (s == null) {
      if (wasUsed(id)) {
        return; // a late frame for a stream that ended here: ignore it
      }
      throw new ProtocolException("yamux: " + YamuxFrame.typeName(f.type) + " frame (flags "
          + YamuxFrame.flagNames(flags) + ") for unknown stream " + id);
    }
    if (f.type == TYPE_DATA) {
      long n = f.length;
      if (n > 0) {
        if (s.finReceived) {
          throw new ProtocolException("yamux: the peer sent " + n + " bytes on stream " + id + " after its FIN");
        }
        if (n > s.recvWindow) {
          throw new ProtocolException("yamux: the peer sent " + n + " bytes on stream " + id
              + ", beyond its receive window (" + s.recvWindow + " bytes left)");
        }
        s.recvWindow -= n;
        ByteBuffer copy = ByteBuffer.allocate((int) n);
        f.data.readBytes(copy);
        copy.flip();
        s.deliverData(copy);
      }
    } else if ((flags & FLAG_RST) == 0) {
      long before = s.sendWindow.get();
      if (before + f.length > MAX_UINT32) {
        throw new ProtocolException("yamux: a window update of " + f.length + " bytes on stream " + id
            + " overflows the send window (" + before + " bytes already)");
      }
      long w = s.sendWindow.addAndGet(f.length);
      if (s.sendBuf != null && !s.queued && w > 0) {
        s.queued = true;
        sendReady.add(s);
      }
    }
    if ((flags & FLAG_RST) != 0) {
      // Braid refuses with the reserved code REFUSED (a StreamRefusedException here). go-yamux and js-yamux refuse
      // with a plain RST (code 0) before any ACK, which an application's early reset also is (js-yamux sends no
      // ACK with a reset): that stays a plain reset, code 0.
      long code = f.type == TYPE_WINDOW_UPDATE ? f.length : 0;
      s.deliverReset(code); // first: a parked transmit then fails with the reset, not with "ended"
      remove(s);
      return;
    }
    if ((flags & FLAG_FIN) != 0 && !s.finReceived) {
      s.finReceived = true;
      s.deliverFin();
      removeIfFinished(s);
    }
    if (fresh && !s.removed && !connection.offerInbound(s)) {
      if (!loggedBacklogFull) {
        loggedBacklogFull = true;
        LOG.log(System.Logger.Level.WARNING, "{0}: refusing inbound streams with RST: the accept backlog is full "
            + "(maxPendingInboundStreams={1}); logged once per connection", connection, options.maxPendingInboundStreams());
      }
      s.refuseInbound("the accept backlog is full (maxPendingInboundStreams=" + options.maxPendingInboundStreams() + ")");
    }
  }

  private TcpMuxedStream acceptRemote(long id) {
    if (localGoAway || closing) {
      writeControl(TYPE_WINDOW_UPDATE, FLAG_RST, id, StreamResetException.REFUSED);
      return null;
    }
    TcpMuxedStream s = new TcpMuxedStream(connection, this, id, false, receiveWindow, null);
    if (!connection.register(s)) {
      if (!loggedStreamLimit) {
        loggedStreamLimit = true;
        LOG.log(System.Logger.Level.WARNING, "{0}: refusing inbound streams with RST: stream limit reached "
            + "(maxStreams={1}); logged once per connection", connection, options.maxStreams());
      }
      writeControl(TYPE_WINDOW_UPDATE, FLAG_RST, id, StreamResetException.REFUSED);
      return null;
    }
    streams.put(id, s);
    writeControl(TYPE_WINDOW_UPDATE, FLAG_ACK, id, receiveWindow - INITIAL_WINDOW);
    return s;
  }

  private boolean isLocalParity(long id) {
    return (id & 1) == (dialer ? 1 : 0);
  }

  private boolean wasUsed(long id) {
    return isLocalParity(id) ? id < nextLocalId : id <= highestRemoteId;
  }

  // ---------------------------------------------------------------- outbound, from streams (any thread)

  CompletableFuture<MuxedStream> openStream(StreamStateListener listener) {
    CompletableFuture<MuxedStream> result = new CompletableFuture<>();
    run(() -> {
      if (closing || localGoAway || remoteGoAway >= 0 || endCause != null || !ctx.channel().isActive()) {
        ConnectionFailedException e = connection.ending();
        result.completeExceptionally(e != null ? e : new ConnectionFailedException("the connection is closing", null));
        return;
      }
      if (nextLocalId > MAX_UINT32) {
        result.completeExceptionally(new StreamRefusedException("yamux stream ids are exhausted on " + connection));
        return;
      }
      long id = nextLocalId;
      nextLocalId += 2;
      TcpMuxedStream s = new TcpMuxedStream(connection, this, id, true, receiveWindow, listener);
      if (!connection.register(s)) {
        result.completeExceptionally(new StreamRefusedException("stream limit reached (maxStreams="
            + options.maxStreams() + ") on " + connection));
        return;
      }
      streams.put(id, s);
      writeControl(TYPE_WINDOW_UPDATE, FLAG_SYN, id, receiveWindow - INITIAL_WINDOW);
      flushIfNeeded();
      result.complete(s);
    }, result);
    return result;
  }

  /**
   * Sends {@code data} on {@code s}. Fast path (any thread): when the peer's window covers all of it and
   * the channel is writable, the caller copies it into frames and hands them to the channel at once
   * (Netty counts a write submitted from outside the event loop against writability immediately), and the
   * future is already complete. Otherwise the data is parked on the stream and the event loop's drain
   * sends it as window and writability allow.
   */
  CompletableFuture<Void> transmit(TcpMuxedStream s, ByteBuffer data) {
    int n = data.remaining();
    boolean onLoop = ctx.executor().inEventLoop();
    if (n <= FAST_PATH_MAX && s.fastPathOpen && (!onLoop || s.queuedOps.get() == 0)
        && ctx.channel().bytesBeforeUnwritable() >= n && reserve(s, n)) {
      ByteBuf frames = ctx.alloc().ioBuffer(n + YamuxFrame.HEADER_LENGTH * ((n + outboundFrameSize - 1) / outboundFrameSize));
      ByteBuffer src = data.duplicate();
      while (src.hasRemaining()) {
        int k = Math.min(src.remaining(), outboundFrameSize);
        YamuxFrame.writeHeader(frames, TYPE_DATA, 0, s.id(), k);
        ByteBuffer chunk = src.duplicate();
        chunk.limit(chunk.position() + k);
        frames.writeBytes(chunk);
        src.position(src.position() + k);
      }
      if (onLoop) {
        ctx.writeAndFlush(frames, ctx.voidPromise());
      } else {
        // Off the loop Netty queues the write as a task; until it has run, the stream's later operations must
        // queue behind it (runOrdered), never be written inline by the loop ahead of it.
        s.queuedOps.incrementAndGet();
        ctx.writeAndFlush(frames, ctx.voidPromise());
        try {
          ctx.executor().execute(s.queuedOps::decrementAndGet);
        } catch (RejectedExecutionException e) {
          s.queuedOps.decrementAndGet(); // the loop is gone: nothing more will be written anyway
        }
      }
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> future = new CompletableFuture<>();
    runOrdered(s, () -> {
      if (s.removed) {
        future.completeExceptionally(new ConnectionFailedException("stream " + s + " has ended on the wire", null));
        return;
      }
      s.sendBuf = data.duplicate();
      s.sendFuture = future;
      if (s.sendWindow.get() > 0 && !s.queued) {
        s.queued = true;
        sendReady.add(s);
      }
      if (!draining) {
        drain(); // a transmit completed inside drain() is picked up by that loop instead
        flushIfNeeded();
      }
    }, future);
    return future;
  }

  private static boolean reserve(TcpMuxedStream s, int n) {
    while (true) {
      long w = s.sendWindow.get();
      if (w < n) {
        return false;
      }
      if (s.sendWindow.compareAndSet(w, w - n)) {
        return true;
      }
    }
  }

  void transmitFin(TcpMuxedStream s) {
    runOrdered(s, () -> {
      if (s.removed || s.finSent) {
        return;
      }
      s.finSent = true;
      writeControl(TYPE_WINDOW_UPDATE, FLAG_FIN, s.id(), 0);
      flushIfNeeded();
      removeIfFinished(s);
      finishCloseIfFlushed();
    }, null);
  }

  void transmitReset(TcpMuxedStream s, long code) {
    runOrdered(s, () -> {
      if (s.removed) {
        return;
      }
      writeControl(TYPE_WINDOW_UPDATE, FLAG_RST, s.id(), code);
      flushIfNeeded();
      remove(s);
    }, null);
  }

  /**
   * The application consumed {@code bytes} of {@code s}: once half a window has been consumed, grant it
   * back with one Window Update. Counted on the caller's thread; only the read that crosses the
   * threshold wakes the event loop.
   */
  void consumed(TcpMuxedStream s, int bytes) {
    long threshold = receiveWindow / 2;
    long c = s.credit.addAndGet(bytes);
    if (c < threshold || c - bytes >= threshold) {
      return; // below the threshold, or an update is already on its way and will take these too
    }
    run(() -> {
      long delta = s.credit.getAndSet(0);
      if (s.removed || s.finReceived || delta <= 0) {
        return;
      }
      s.recvWindow += delta;
      writeControl(TYPE_WINDOW_UPDATE, 0, s.id(), delta);
      flushIfNeeded();
    }, null);
  }

  void streamTerminated(TcpMuxedStream s, StreamState state) {
    runOrdered(s, () -> {
      if (s.removed) {
        return;
      }
      if (state == StreamState.FAILED) {
        // The connection died (nothing to send), or the transport failed this stream alone: tell the peer.
        if (connection.isOpen() && ctx.channel().isActive()) {
          writeControl(TYPE_WINDOW_UPDATE, FLAG_RST, s.id(), StreamResetException.INTERNAL_ERROR);
          flushIfNeeded();
        }
        remove(s);
      } else if (state == StreamState.CLOSED) {
        // Graceful for Braid, but the yamux half-closes may still be under way (queued bytes then our
        // FIN; the peer's FIN after our closeRead). Bound how long it may linger.
        long millis = options.idleTimeout().toMillis();
        s.linger = ctx.executor().schedule(guarded(() -> {
          if (!s.removed) {
            writeControl(TYPE_WINDOW_UPDATE, FLAG_RST, s.id(), StreamResetException.INTERNAL_ERROR);
            flushIfNeeded();
            remove(s);
          }
        }), millis, TimeUnit.MILLISECONDS);
      }
      // RESET: the RST went (or came) on the wire and removed the stream, or transmitReset will.
    }, null);
  }

  /**
   * Graceful close: no new streams either way; streams that are closed for Braid but still sending
   * (bytes within the peer's window, then their FIN) finish first, bounded by a timeout; then go-away
   * (normal) is flushed and the socket closes.
   */
  void close() {
    run(() -> {
      if (closing) {
        return;
      }
      closing = true;
      localGoAway = true;
      if (keepAlive != null) {
        keepAlive.cancel(false);
      }
      if (!ctx.channel().isActive()) {
        ctx.close();
        return;
      }
      drain();
      flushIfNeeded();
      ctx.executor().schedule(guarded(() -> {
        if (ctx.channel().isActive() && !goAwaySent) {
          LOG.log(System.Logger.Level.DEBUG, "{0}: close did not finish within {1} ms; closing the socket",
              connection, CLOSE_FLUSH_TIMEOUT_MILLIS);
          goAwaySent = true;
          ctx.writeAndFlush(YamuxFrame.control(ctx.alloc(), TYPE_GO_AWAY, 0, 0, YamuxFrame.GO_AWAY_NORMAL));
          ctx.close();
        }
      }), CLOSE_FLUSH_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
      finishCloseIfFlushed();
    }, null);
  }

  private void finishCloseIfFlushed() {
    if (!closing || goAwaySent || endCause != null) {
      return;
    }
    for (TcpMuxedStream s : streams.values()) {
      if (s.sendBuf != null || !s.finSent) {
        return; // still sending what was written before close(); its FIN or removal calls us again
      }
    }
    sendGoAwayAndClose();
  }

  private void sendGoAwayAndClose() {
    if (goAwaySent) {
      return;
    }
    goAwaySent = true;
    ByteBuf goAway = YamuxFrame.control(ctx.alloc(), TYPE_GO_AWAY, 0, 0, YamuxFrame.GO_AWAY_NORMAL);
    flushNeeded = false;
    writeLastAndLinger(goAway);
    // Backstop: if the go-away itself is never written (a peer that stops reading, its window at 0), the
    // linger timer is never armed; close anyway.
    ctx.executor().schedule(guarded(() -> {
      if (ctx.channel().isOpen()) {
        LOG.log(System.Logger.Level.DEBUG, "{0}: go-away not written within {1} ms; closing", connection,
            CLOSE_FLUSH_TIMEOUT_MILLIS + LINGER_MILLIS);
        ctx.close();
      }
    }), CLOSE_FLUSH_TIMEOUT_MILLIS + LINGER_MILLIS, TimeUnit.MILLISECONDS);
  }

  /**
   * Writes the connection's last frame, then closes without a TCP reset: half-closes the socket (after TLS's
   * close_notify), reads and discards until the peer closes its side (Netty then closes the channel), and
   * closes anyway after {@link #LINGER_MILLIS}. A socket closed outright while the peer's bytes are unread, or
   * still arriving (a window update, the peer's own go-away), is answered by the kernel with a RST, and a RST
   * can make the peer's kernel drop what it had not yet read, our go-away and last data included (the peer saw
   * {@code ECONNRESET} instead of a graceful close).
   */
  private void writeLastAndLinger(ByteBuf last) {
    ctx.writeAndFlush(last).addListener(written -> {
      Channel ch = ctx.channel();
      if (!written.isSuccess() || !ch.isActive() || !(ch instanceof DuplexChannel)) {
        ctx.close();
        return;
      }
      ctx.executor().schedule(guarded(() -> {
        if (ch.isOpen()) {
          LOG.log(System.Logger.Level.DEBUG, "{0}: the peer did not close within {1} ms of our go-away; closing",
              connection, LINGER_MILLIS);
          ctx.close();
        }
      }), LINGER_MILLIS, TimeUnit.MILLISECONDS);
      SslHandler tls = ctx.pipeline().get(SslHandler.class);
      ChannelFuture closeNotify = tls == null ? ctx.newSucceededFuture() : tls.closeOutbound();
      closeNotify.addListener(sent -> {
        if (!sent.isSuccess()) {
          ctx.close();
          return;
        }
        ((DuplexChannel) ch).shutdownOutput().addListener(shut -> {
          if (!shut.isSuccess()) {
            ctx.close();
          }
        });
      });
    });
  }

  void abort(Throwable cause) {
    run(() -> {
      if (endCause == null) {
        endCause = cause;
      }
      closing = true;
      ctx.close();
    }, null);
  }

  void kill() {
    run(() -> {
      if (endCause == null) {
        endCause = new ConnectionFailedException("the TCP connection was killed abruptly (socket closed with RST)", null);
      }
      closing = true;
      try {
        ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.DEBUG, "cannot set SO_LINGER on " + connection, e);
      }
      ctx.close();
    }, null);
  }

  long keepAliveAnswers() {
    return pongs;
  }

  boolean isChannelOpen() {
    return ctx != null && ctx.channel().isOpen();
  }

  // ---------------------------------------------------------------- sending

  /** Writes Data frames, round-robin over streams with data and window, while the channel is writable. */
  private void drain() {
    if (draining) {
      return;
    }
    draining = true;
    try {
      while (!sendReady.isEmpty() && ctx.channel().isWritable()) {
        TcpMuxedStream s = sendReady.poll();
        s.queued = false;
        ByteBuffer src = s.sendBuf;
        long window = s.sendWindow.get();
        if (s.removed || src == null || window <= 0) {
          continue;
        }
        int n = (int) Math.min(Math.min(src.remaining(), window), outboundFrameSize);
        ByteBuf frame = ctx.alloc().ioBuffer(YamuxFrame.HEADER_LENGTH + n);
        YamuxFrame.writeHeader(frame, TYPE_DATA, 0, s.id(), n);
        ByteBuffer chunk = src.duplicate();
        chunk.limit(chunk.position() + n);
        frame.writeBytes(chunk);
        src.position(src.position() + n);
        long left = s.sendWindow.addAndGet(-n);
        ctx.write(frame, ctx.voidPromise());
        flushNeeded = true;
        if (!src.hasRemaining()) {
          CompletableFuture<Void> f = s.sendFuture;
          s.sendBuf = null;
          s.sendFuture = null;
          f.complete(null); // may transmit again on this stream: it re-queues itself
        } else if (left > 0 && !s.queued) {
          s.queued = true;
          sendReady.add(s);
        }
      }
    } finally {
      draining = false;
    }
  }

  private void writeControl(int type, int flags, long streamId, long length) {
    if (ctx.channel().isActive() && !goAwaySent) { // nothing follows our go-away: the output is shut down
      ctx.write(YamuxFrame.control(ctx.alloc(), type, flags, streamId, length), ctx.voidPromise());
      flushNeeded = true;
    }
  }

  private void flushIfNeeded() {
    if (flushNeeded) {
      flushNeeded = false;
      ctx.flush();
    }
  }

  private void sendKeepAlive() {
    if (closing || endCause != null) {
      return;
    }
    if (outstandingPing < 0) {
      outstandingPing = nextPingId;
      nextPingId = (nextPingId + 1) & MAX_UINT32;
      writeControl(TYPE_PING, FLAG_SYN, 0, outstandingPing);
      flushIfNeeded();
    }
    // An unanswered ping leaves the connection silent; the idle timeout then ends it.
  }

  // ---------------------------------------------------------------- ending

  private void removeIfFinished(TcpMuxedStream s) {
    if (s.finSent && s.finReceived && s.sendBuf == null) {
      remove(s);
    }
  }

  private void remove(TcpMuxedStream s) {
    if (s.removed) {
      return;
    }
    s.removed = true;
    s.fastPathOpen = false;
    streams.remove(s.id());
    if (!isLocalParity(s.id())) {
      recentlyClosedRemote.add(s.id());
      if (recentlyClosedRemote.size() > RECENTLY_CLOSED) {
        recentlyClosedRemote.remove(recentlyClosedRemote.iterator().next());
      }
    }
    if (s.linger != null) {
      s.linger.cancel(false);
    }
    CompletableFuture<Void> f = s.sendFuture;
    s.sendBuf = null;
    s.sendFuture = null;
    if (f != null) {
      f.completeExceptionally(new ConnectionFailedException("stream " + s + " ended before its bytes were sent", null));
    }
    closeIfDone();
    finishCloseIfFlushed();
  }

  /** After the peer's go-away, neither side opens streams: once the last one ended, the connection has no use. */
  private void closeIfDone() {
    if (remoteGoAway == YamuxFrame.GO_AWAY_NORMAL && streams.isEmpty() && !closing) {
      close();
    }
  }

  private void protocolError(ProtocolException e) {
    if (endCause != null) {
      return;
    }
    LOG.log(System.Logger.Level.WARNING, "{0}: {1}; sending go-away (protocol error) and closing", connection,
        e.getMessage());
    endCause = e;
    closing = true;
    if (ctx.channel().isActive()) {
      ByteBuf goAway = YamuxFrame.control(ctx.alloc(), TYPE_GO_AWAY, 0, 0, YamuxFrame.GO_AWAY_PROTOCOL_ERROR);
      ctx.writeAndFlush(goAway).addListener(ChannelFutureListener.CLOSE); // then aborted: a protocol error is abrupt
      ctx.executor().schedule(guarded(() -> {
        ctx.close();
      }), CLOSE_FLUSH_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
    }
    if (connection != null) {
      TcpConnection conn = connection;
      safely(() -> conn.abort(e));
    } else {
      ctx.close();
    }
  }

  private void failConnection(ConnectionFailedException cause) {
    if (endCause == null) {
      endCause = cause;
    }
    closing = true;
    ctx.close();
  }

  // ---------------------------------------------------------------- helpers

  /**
   * Runs an outbound operation of {@code s} (data, FIN, RST) on the event loop so that the stream's frames
   * reach the channel in the order of the stream's operations, by construction: inline only when called on
   * the loop and none of the stream's earlier operations still waits in the loop's task queue; otherwise
   * queued behind them (the task queue is FIFO, and an operation is issued only after the previous one
   * was handed over). Before this, a FIN sent inline by the loop (after a write that waited for credit
   * completed there) could overtake the last data frames an application thread had just queued: the
   * peer saw end-of-stream early, then data after FIN.
   */
  private void runOrdered(TcpMuxedStream s, Runnable task, CompletableFuture<?> onReject) {
    if (ctx.executor().inEventLoop() && s.queuedOps.get() == 0) {
      run(task, onReject);
      return;
    }
    s.queuedOps.incrementAndGet();
    try {
      ctx.executor().execute(() -> {
        s.queuedOps.decrementAndGet();
        run(task, onReject);
      });
    } catch (RejectedExecutionException e) {
      s.queuedOps.decrementAndGet();
      if (onReject != null) {
        onReject.completeExceptionally(new ConnectionFailedException("the transport is shut down", e));
      }
    }
  }

  /** Runs {@code task} on the event loop; if the loop is gone, fails {@code onReject} (when given). */
  private void run(Runnable task, CompletableFuture<?> onReject) {
    Runnable guarded = () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "yamux session task failed on " + connection, e);
        if (onReject != null) {
          onReject.completeExceptionally(new ConnectionFailedException("internal error: " + e, e));
        }
        failConnection(new ConnectionFailedException("internal error: " + e, e));
      }
    };
    if (ctx.executor().inEventLoop()) {
      guarded.run();
      return;
    }
    try {
      ctx.executor().execute(guarded);
    } catch (RejectedExecutionException e) {
      if (onReject != null) {
        onReject.completeExceptionally(new ConnectionFailedException("the transport is shut down", e));
      }
    }
  }

  /** A timer task that never lets an exception reach the event loop. */
  private Runnable guarded(Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "yamux session timer failed on " + connection, e);
        failConnection(new ConnectionFailedException("internal error: " + e, e));
      }
    };
  }

  private void safely(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "callback failed on " + connection, e);
    }
  }

  static URI uri(String scheme, SocketAddress address) {
    if (address instanceof InetSocketAddress) {
      InetSocketAddress a = (InetSocketAddress) address;
      String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
      if (host.indexOf(':') >= 0) {
        int zone = host.indexOf('%');
        host = "[" + (zone >= 0 ? host.substring(0, zone) : host) + "]";
      }
      return URI.create(scheme + "://" + host + ":" + a.getPort());
    }
    return URI.create(scheme + "://unknown:0");
  }
}
