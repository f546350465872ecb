package dev.braid.transport.quic.netty.internal;

import dev.braid.ConnectionFailedException;
import dev.braid.MuxedStream;
import dev.braid.StreamRefusedException;
import dev.braid.StreamStateListener;
import dev.braid.spi.AbstractConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicConnectionCloseEvent;
import io.netty.handler.codec.quic.QuicException;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamLimitChangedEvent;
import io.netty.handler.codec.quic.QuicStreamType;
import io.netty.handler.codec.quic.QuicTransportParameters;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A Braid connection over one Netty {@link QuicChannel}. Every {@link MuxedStream} is one bidirectional QUIC stream
 * ({@link NettyQuicMuxedStream}); closing sends CONNECTION_CLOSE (NO_ERROR), aborting an application close with code
 * 1 (the kwik transport's codes: the two implementations speak one mapping).
 *
 * <p><b>Threads.</b> Everything that touches Netty or quiche runs on the channel's event loop ({@link #onLoop});
 * the fields marked "loop" are confined to it. Braid's core is called from the loop, never under a lock of this class.
 *
 * <p><b>Keep-alive.</b> Netty 4.2.18 binds no way to send a QUIC PING; every {@code keepAliveInterval} the connection
 * sends a one-byte DATAGRAM frame instead (ack-eliciting, so it feeds both ends' idle timers), when the peer accepts
 * datagrams (max_datagram_frame_size; a kwik peer does not, and keeps the connection alive with its own PINGs).
 * Received datagrams are dropped.
 *
 * <p><b>Thread safety.</b> Thread-safe.
 */
final class NettyQuicConnection extends AbstractConnection {
  static final AttributeKey<NettyQuicConnection> KEY = AttributeKey.valueOf("dev.braid.quic.netty.connection");
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic.netty");
  /** Application error code in CONNECTION_CLOSE when we abort (as the kwik transport). */
  static final int ABORT_CODE = 1;
  /**
   * The smallest max_datagram_frame_size that fits our one-byte keep-alive DATAGRAM frame with room to spare (RFC 9221
   * counts the frame's type and length). kwik 0.10.8 advertises 1: it takes no datagrams, and keeps the connection
   * alive with its own PINGs.
   */
  private static final long MIN_DATAGRAM_FRAME = 16;
  /** How often a peer stream refused at the limit is looked at again before it is refused (streams still ending). */
  private static final int REFUSAL_RETRIES = 20;

  private final NettyQuicTransport transport;
  private final CompletableFuture<Void> ended = new CompletableFuture<>();
  private final List<Runnable> endHooks = new CopyOnWriteArrayList<>();
  private final AtomicBoolean endHandled = new AtomicBoolean();
  private final ChannelHandler handler = new Handler();
  private volatile QuicChannel quic;
  private volatile EventLoop loop;
  private volatile boolean closingLocally;
  // loop
  private final Map<Long, NettyQuicMuxedStream> wire = new LinkedHashMap<>();
  private final ArrayDeque<Open> waitingForCredit = new ArrayDeque<>();
  private QuicConnectionCloseEvent closeEvent;
  private io.netty.util.concurrent.ScheduledFuture<?> keepAlive;
  private Runnable onActive;

  NettyQuicConnection(NettyQuicTransport transport, boolean dialer, URI local, URI remote) {
    super(NettyQuicTransport.ID, dialer, local, remote, NettyQuicTransport.CAPABILITIES, transport.options());
    this.transport = transport;
  }

  /** The handler of the QuicChannel: added before the handshake. */
  ChannelHandler handler() {
    return handler;
  }

  /** The handshake is done (dialer), or the channel exists (listener: {@code whenActive} runs at handshake's end). */
  void attach(QuicChannel ch) {
    quic = ch;
    loop = ch.eventLoop();
  }

  void whenActive(Runnable r) {
    onActive = r;
  }

  QuicChannel quic() {
    return quic;
  }

  /** Runs {@code task} on the connection's event loop: inline when already there. */
  void onLoop(Runnable task) {
    EventLoop l = loop;
    if (l.inEventLoop()) {
      task.run();
      return;
    }
    try {
      l.execute(task);
    } catch (RejectedExecutionException closing) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: event loop gone; dropped a task", this);
    }
  }

  boolean inLoop() {
    return loop.inEventLoop();
  }

  void onEnd(Runnable hook) {
    endHooks.add(hook);
    if (endHandled.get()) {
      hook.run();
    }
  }

  CompletableFuture<Void> ended() {
    return ended;
  }

  int receiveWindow() {
    return options().receiveWindow();
  }

  // ---------------------------------------------------------------- streams

  /** A peer stream's channel was created by Netty (its first byte, FIN or reset arrived). On the loop. */
  void acceptPeerStream(QuicStreamChannel ch) {
    if (ch.type() != QuicStreamType.BIDIRECTIONAL) {
      ch.close(); // Braid grants no unidirectional credit
      return;
    }
    NettyQuicMuxedStream s = new NettyQuicMuxedStream(this, ch, false, null);
    admit(s, 0);
  }

  private void admit(NettyQuicMuxedStream s, int attempt) {
    if (!addStream(s)) {
      if (isOpen() && attempt < REFUSAL_RETRIES) {
        // quiche grants the peer a new stream as soon as one ends on the wire; Braid's count follows once its core has
        // seen that stream end. Give terminations in flight a moment before refusing.
        loop.schedule(() -> admit(s, attempt + 1), 5, TimeUnit.MILLISECONDS);
        return;
      }
      LOG.log(System.Logger.Level.DEBUG, "{0}: refusing peer stream {1}: stream limit or connection ending", this,
          s.id());
      s.refuseUnregistered();
      return;
    }
    wire.put(s.id(), s);
    s.startReading();
    if (!deliverInbound(s)) {
      s.refuseRegistered("accept backlog full (maxPendingInboundStreams=" + options().maxPendingInboundStreams()
          + ") or the connection is ending");
    }
  }

  /** The stream is finished and its channel closed: no more probing. On the loop. */
  void forget(NettyQuicMuxedStream s) {
    wire.remove(s.id(), s);
  }

  /** After each batch of datagrams (see {@link BatchHook}): what Netty does not report, stream by stream. */
  void afterBatch() {
    if (quic == null || wire.isEmpty()) {
      return;
    }
    for (NettyQuicMuxedStream s : wire.values().toArray(new NettyQuicMuxedStream[0])) {
      s.probe();
    }
  }

  /** One open waiting on the loop (for stream credit, possibly). */
  private final class Open {
    final CompletableFuture<MuxedStream> result = new CompletableFuture<>();
    final StreamStateListener listener;

    Open(StreamStateListener listener) {
      this.listener = listener;
    }
  }

  /**
   * Opens one QUIC stream and writes the mapping's one-byte preamble on it before the open completes, so the peer sees
   * the stream at once (quiche can neither send nor see a zero-length STREAM frame). Without stream credit (the peer's
   * MAX_STREAMS) the open waits, bounded by {@code connectTimeout}; a wait that times out is the peer's limit refusing
   * the stream: {@link StreamRefusedException} marked remote, as the kwik transport reports it.
   */
  @Override
  protected CompletableFuture<MuxedStream> doOpenStream(StreamStateListener listener) {
    Open open = new Open(listener);
    long timeoutMillis = options().connectTimeout().toMillis();
    try {
      io.netty.util.concurrent.ScheduledFuture<?> timer = loop.schedule(() -> {
        waitingForCredit.remove(open);
        ConnectionFailedException end = endCause();
        open.result.completeExceptionally(end != null ? end : new StreamRefusedException("the peer granted no QUIC "
            + "stream credit (MAX_STREAMS) within " + timeoutMillis + " ms: its stream limit refused the stream", true));
      }, timeoutMillis, TimeUnit.MILLISECONDS);
      open.result.whenComplete((s, e) -> timer.cancel(false));
      loop.execute(() -> tryOpen(open));
    } catch (RejectedExecutionException closing) {
      ConnectionFailedException end = endCause();
      open.result.completeExceptionally(end != null ? end : new ConnectionFailedException("the QUIC connection's "
          + "event loop is gone", closing));
    }
    return open.result;
  }

  private void tryOpen(Open open) {
    if (open.result.isDone()) {
      return;
    }
    ConnectionFailedException end = endCause();
    if (end != null) {
      open.result.completeExceptionally(end);
      return;
    }
    if (streamLimitReached()) {
      open.result.completeExceptionally(new StreamRefusedException("stream limit reached: maxStreams="
          + options().maxStreams()));
      return;
    }
    if (quic.peerAllowedStreams(QuicStreamType.BIDIRECTIONAL) <= 0) {
      waitingForCredit.add(open);
      return;
    }
    StreamSlot slot = new StreamSlot();
    // The bootstrap's streamOption(...) reaches only the peer's streams: ours get AUTO_READ off here, or they would
    // read from quiche without bound and a slow reader would not hold the peer back (kit rule B1, opener's side).
    quic.newStreamBootstrap().type(QuicStreamType.BIDIRECTIONAL).handler(slot)
        .option(io.netty.channel.ChannelOption.AUTO_READ, false)
        .option(io.netty.channel.ChannelOption.ALLOW_HALF_CLOSURE, true)
        .create().addListener(f -> {
      if (!f.isSuccess()) {
        if (f.cause() instanceof QuicException && isOpen()
            && quic.peerAllowedStreams(QuicStreamType.BIDIRECTIONAL) <= 0) {
          waitingForCredit.add(open); // raced with the last credit
          return;
        }
        ConnectionFailedException e = endCause();
        open.result.completeExceptionally(e != null ? e : new ConnectionFailedException("Netty could not create a "
            + "QUIC stream: " + f.cause(), f.cause()));
        return;
      }
      QuicStreamChannel ch = (QuicStreamChannel) f.getNow();
      NettyQuicMuxedStream s = new NettyQuicMuxedStream(this, ch, true, open.listener, slot);
      if (!addStream(s)) {
        s.refuseUnregistered();
        ConnectionFailedException e = endCause();
        open.result.completeExceptionally(e != null ? e : new StreamRefusedException("stream limit reached: maxStreams="
            + options().maxStreams()));
        return;
      }
      wire.put(s.id(), s);
      s.writePreamble();
      s.startReading();
      if (!open.result.complete(s)) {
        s.refuseRegistered("its open had already failed (timed out, or the connection ended)");
      }
    });
  }

  private void creditChanged() {
    while (!waitingForCredit.isEmpty() && quic.peerAllowedStreams(QuicStreamType.BIDIRECTIONAL) > 0) {
      tryOpen(waitingForCredit.poll());
    }
  }

  /** The pipeline slot of a stream we open: Netty wants the handler before the stream object can exist. */
  static final class StreamSlot extends ChannelInboundHandlerAdapter {
    NettyQuicMuxedStream stream; // loop

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (stream == null) {
        ReferenceCountUtil.release(msg);
        return;
      }
      stream.onRead((ByteBuf) msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (stream != null) {
        stream.onEvent(evt);
      }
      ReferenceCountUtil.release(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (stream != null) {
        stream.onException(cause);
      } else {
        LOG.log(System.Logger.Level.DEBUG, "QUIC stream error before Braid held the stream: {0}", cause.toString());
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (stream != null) {
        stream.onReadComplete();
      }
    }
  }

  // ---------------------------------------------------------------- connection events

  private final class Handler extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      Runnable r = onActive;
      onActive = null;
      if (r != null) {
        r.run();
      }
      startKeepAlive();
      ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof QuicConnectionCloseEvent e) {
        closeEvent = e;
      } else if (evt instanceof QuicStreamLimitChangedEvent) {
        creditChanged();
      }
      ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof ByteBuf datagram) {
        datagram.release(); // a keep-alive datagram
      } else {
        ctx.fireChannelRead(msg); // a new peer stream: Netty's pipeline tail registers it
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: QUIC connection error: {1}", NettyQuicConnection.this, cause.toString());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      QuicChannel ch = (QuicChannel) ctx.channel();
      boolean timedOut = ch.isTimedOut();
      if (closingLocally && !timedOut) {
        end(null, false); // our close() or abort(): the core knows the reason already
      } else {
        end(CloseReason.of(closeEvent, timedOut, options().idleTimeout()), !timedOut);
      }
    }
  }

  private void startKeepAlive() {
    long every = options().keepAliveInterval().toMillis();
    if (every <= 0 || keepAlive != null) {
      return;
    }
    keepAlive = loop.scheduleAtFixedRate(() -> {
      QuicChannel ch = quic;
      if (ch == null || !ch.isActive()) {
        return;
      }
      QuicTransportParameters peer = ch.peerTransportParameters();
      if (!closingLocally && peer != null && peer.maxDatagramFrameSize() >= MIN_DATAGRAM_FRAME) {
        ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[1])).addListener(f -> {
          if (!f.isSuccess()) {
            LOG.log(System.Logger.Level.DEBUG, "{0}: keep-alive datagram not sent: {1}", this, f.cause());
          }
        });
      }
    }, every, every, TimeUnit.MILLISECONDS);
  }

  private void end(Throwable cause, boolean remote) {
    terminated(cause, remote);
    if (endHandled.compareAndSet(false, true)) {
      if (keepAlive != null) {
        keepAlive.cancel(false);
      }
      ConnectionFailedException reason = endCause();
      List<Open> waiting = new ArrayList<>(waitingForCredit);
      waitingForCredit.clear();
      for (Open o : waiting) {
        o.result.completeExceptionally(reason);
      }
      wire.clear();
      for (Runnable hook : endHooks) {
        try {
          hook.run();
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.WARNING, "cleanup after " + this + " failed", e);
        }
      }
    }
    ended.complete(null);
  }

  // ---------------------------------------------------------------- AbstractConnection

  /** CONNECTION_CLOSE with NO_ERROR, kept in quiche's closing state until it ends ({@link NettyInternals}, section 4). */
  @Override
  protected void doClose() {
    closingLocally = true;
    onLoop(() -> closeThroughQuiche(false, 0, "closed", null));
  }

  /** An application CONNECTION_CLOSE with code 1, as the kwik transport. */
  @Override
  protected void doAbort(Throwable cause) {
    closingLocally = true;
    onLoop(() -> closeThroughQuiche(true, ABORT_CODE, "aborted: " + cause, cause));
  }

  private void closeThroughQuiche(boolean application, long code, String reason, Throwable cause) {
    if (!quic.isOpen()) {
      end(cause, false);
      return;
    }
    byte[] phrase = reason.getBytes(StandardCharsets.UTF_8);
    int r = NettyInternals.close(quic, application, code, java.util.Arrays.copyOf(phrase, Math.min(phrase.length, 256)));
    if (r < 0 && r != NettyInternals.ERR_DONE) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: quiche refused to close ({1}); closing the channel", this, r);
      quic.close();
      return;
    }
    NettyInternals.flush(quic); // quiche's closing state ends after 3 PTOs; Netty then closes the channel (channelInactive)
  }
}
