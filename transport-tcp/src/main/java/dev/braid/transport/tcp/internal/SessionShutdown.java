package dev.braid.transport.tcp.internal;

import static dev.braid.transport.tcp.internal.YamuxFrame.FLAG_ACK;
import static dev.braid.transport.tcp.internal.YamuxFrame.FLAG_SYN;
import static dev.braid.transport.tcp.internal.YamuxFrame.MAX_UINT32;
import static dev.braid.transport.tcp.internal.YamuxFrame.TYPE_GO_AWAY;
import static dev.braid.transport.tcp.internal.YamuxFrame.TYPE_PING;

import dev.braid.ConnectionClosedException;
import dev.braid.ConnectionFailedException;
import dev.braid.ConnectionTimedOutException;
import dev.braid.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * How a yamux session stays alive and how it ends: keep-alive pings, go-away both ways, the graceful close
 * (streams closed before it finish sending, then go-away and a lingering half-close of the socket), and the
 * abrupt ends (abort, kill, protocol error, transport failure).
 *
 * <p><b>Thread safety.</b> Event loop only, except {@link #pongs()} (volatile) and the entry points that hop
 * onto the loop ({@link #close}, {@link #abort}, {@link #kill}).
 */
final class SessionShutdown {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.tcp");
  private static final long CLOSE_FLUSH_TIMEOUT_MILLIS = 5_000;
  /** How long a closing connection reads, discarding, while it waits for the peer to close its side. */
  static final long LINGER_MILLIS = 5_000;

  /** How the connection ended, as {@code AbstractConnection.terminated} wants it. */
  record Ending(Throwable cause, boolean remote) {}

  private final SessionIo io;
  private final StreamTable table;
  private final FlowControl flow;
  private final WindowTuner tuner;

  // Event loop only.
  private boolean closing;
  private boolean localGoAway;
  private long remoteGoAway = -1;
  private Throwable endCause;
  private ScheduledFuture<?> keepAlive;
  private long nextPingId;
  private long outstandingPing = -1;
  private long pingSentNanos;
  private volatile long pongs; // written by the event loop only

  SessionShutdown(SessionIo io, StreamTable table, FlowControl flow, WindowTuner tuner) {
    this.io = io;
    this.table = table;
    this.flow = flow;
    this.tuner = tuner;
  }

  // ---------------------------------------------------------------- state

  /** Whether frames are no longer handled (read and discarded): the connection failed, or our go-away went. */
  boolean discarding() {
    return endCause != null || io.isGoAwaySent();
  }

  /** Whether the peer's new streams are refused: we are closing. */
  boolean refusesStreams() {
    return localGoAway || closing;
  }

  /** Whether we may open a stream: nobody is closing, nothing failed, and the channel is up. */
  boolean mayOpen() {
    return !closing && !localGoAway && remoteGoAway < 0 && endCause == null && io.ctx().channel().isActive();
  }

  long pongs() {
    return pongs;
  }

  // ---------------------------------------------------------------- keep-alive

  void startKeepAlive(Duration interval) {
    if (!interval.isZero()) {
      long millis = Math.max(1, interval.toMillis());
      keepAlive = io.ctx().executor().scheduleAtFixedRate(io.guarded(this::sendPing), millis, millis,
          TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Sends a ping unless one is unanswered: every keep-alive, and once when the session starts, to measure the
   * round-trip time the receive-window auto-tuning needs ({@link WindowTuner}).
   */
  void sendPing() {
    if (closing || endCause != null) {
      return;
    }
    if (outstandingPing < 0) {
      outstandingPing = nextPingId;
      nextPingId = (nextPingId + 1) & MAX_UINT32;
      pingSentNanos = System.nanoTime();
      io.writeControl(TYPE_PING, FLAG_SYN, 0, outstandingPing);
      io.flushIfNeeded();
    }
    // An unanswered ping leaves the connection silent; the idle timeout then ends it.
  }

  void onPing(int flags, long value) {
    if (flags == FLAG_SYN) {
      io.writeControl(TYPE_PING, FLAG_ACK, 0, value);
    } else if (value == outstandingPing) {
      outstandingPing = -1;
      tuner.rtt(System.nanoTime() - pingSentNanos);
      pongs++;
    } else if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: unmatched ping response {1}", io.connection(), value);
    }
  }

  /** Nothing arrived for the idle timeout. While lingering after our go-away, the linger timer bounds it instead. */
  void onIdle(Duration idleTimeout) {
    if (!io.isGoAwaySent()) {
      failConnection(new ConnectionTimedOutException("idle timeout: nothing received for " + idleTimeout.toMillis()
          + " ms" + (keepAlive != null ? " (keep-alive pings unanswered)" : ""), null));
    }
  }

  // ---------------------------------------------------------------- go-away

  void onGoAway(long code) {
    remoteGoAway = code;
    if (code == YamuxFrame.GO_AWAY_NORMAL) {
      io.connection().spiMarkEnding(
          new ConnectionClosedException("the peer is closing the connection (yamux go-away)", true));
      closeIfDone();
    } else {
      failConnection(new ConnectionFailedException("the peer ended the connection with yamux go-away "
          + YamuxFrame.goAwayName(code), null));
    }
  }

  /** A stream left the session: the close in progress may proceed, or a connection the peer is closing ends. */
  void streamGone() {
    closeIfDone();
    finishCloseIfFlushed();
  }

  /** After the peer's go-away, neither side opens streams: once the last one ended, the connection has no use. */
  private void closeIfDone() {
    if (remoteGoAway == YamuxFrame.GO_AWAY_NORMAL && table.isEmpty() && !closing) {
      close();
    }
  }

  // ---------------------------------------------------------------- graceful close

  /**
   * Graceful close: no new streams either way; streams that are closed for Braid but still sending
   * (bytes within the peer's window, then their FIN) finish first, bounded by a timeout; then go-away
   * (normal) is flushed and the socket closes.
   */
  void close() {
    io.run(() -> {
      if (closing) {
        return;
      }
      closing = true;
      localGoAway = true;
      if (keepAlive != null) {
        keepAlive.cancel(false);
      }
      ChannelHandlerContext ctx = io.ctx();
      if (!ctx.channel().isActive()) {
        ctx.close();
        return;
      }
      flow.drain();
      io.flushIfNeeded();
      ctx.executor().schedule(io.guarded(() -> {
        if (ctx.channel().isActive() && !io.isGoAwaySent()) {
          LOG.log(System.Logger.Level.DEBUG, "{0}: close did not finish within {1} ms; closing the socket",
              io.connection(), CLOSE_FLUSH_TIMEOUT_MILLIS);
          io.goAwaySent();
          ctx.writeAndFlush(YamuxFrame.control(ctx.alloc(), TYPE_GO_AWAY, 0, 0, YamuxFrame.GO_AWAY_NORMAL));
          ctx.close();
        }
      }), CLOSE_FLUSH_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
      finishCloseIfFlushed();
    }, null);
  }

  /** Once every stream sent what was written before close() and its FIN: go-away, then the lingering close. */
  void finishCloseIfFlushed() {
    if (!closing || io.isGoAwaySent() || endCause != null) {
      return;
    }
    if (!table.allFlushed()) {
      return; // still sending what was written before close(); its FIN or removal calls us again
    }
    ChannelHandlerContext ctx = io.ctx();
    ByteBuf goAway = YamuxFrame.control(ctx.alloc(), TYPE_GO_AWAY, 0, 0, YamuxFrame.GO_AWAY_NORMAL);
    io.goAwaySent();
    writeLastAndLinger(goAway);
    // Backstop: if the go-away itself is never written (a peer that stops reading, its window at 0), the
    // linger timer is never armed; close anyway.
    ctx.executor().schedule(io.guarded(() -> {
      if (ctx.channel().isOpen()) {
        LOG.log(System.Logger.Level.DEBUG, "{0}: go-away not written within {1} ms; closing", io.connection(),
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
    ChannelHandlerContext ctx = io.ctx();
    ctx.writeAndFlush(last).addListener(written -> {
      Channel ch = ctx.channel();
      if (!written.isSuccess() || !ch.isActive() || !(ch instanceof DuplexChannel duplex)) {
        ctx.close();
        return;
      }
      ctx.executor().schedule(io.guarded(() -> {
        if (ch.isOpen()) {
          LOG.log(System.Logger.Level.DEBUG, "{0}: the peer did not close within {1} ms of our go-away; closing",
              io.connection(), LINGER_MILLIS);
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
        duplex.shutdownOutput().addListener(shut -> {
          if (!shut.isSuccess()) {
            ctx.close();
          }
        });
      });
    });
  }

  // ---------------------------------------------------------------- abrupt ends

  void abort(Throwable cause) {
    io.run(() -> {
      if (endCause == null) {
        endCause = cause;
      }
      closing = true;
      io.ctx().close();
    }, null);
  }

  void kill() {
    io.run(() -> {
      if (endCause == null) {
        endCause = new ConnectionFailedException("the TCP connection was killed abruptly (socket closed with RST)",
            null);
      }
      closing = true;
      try {
        io.ctx().channel().config().setOption(ChannelOption.SO_LINGER, 0);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.DEBUG, "cannot set SO_LINGER on " + io.connection(), e);
      }
      io.ctx().close();
    }, null);
  }

  /** The peer broke the protocol: go-away (protocol error), then the connection is aborted. */
  void protocolError(ProtocolException e) {
    if (endCause != null) {
      return;
    }
    TcpConnection connection = io.connection();
    LOG.log(System.Logger.Level.WARNING, "{0}: {1}; sending go-away (protocol error) and closing", connection,
        e.getMessage());
    endCause = e;
    closing = true;
    ChannelHandlerContext ctx = io.ctx();
    if (ctx.channel().isActive()) {
      ByteBuf goAway = YamuxFrame.control(ctx.alloc(), TYPE_GO_AWAY, 0, 0, YamuxFrame.GO_AWAY_PROTOCOL_ERROR);
      ctx.writeAndFlush(goAway).addListener(ChannelFutureListener.CLOSE); // then aborted: a protocol error is abrupt
      ctx.executor().schedule(io.guarded(ctx::close), CLOSE_FLUSH_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
    }
    if (connection != null) {
      io.safely(() -> connection.abort(e));
    } else {
      ctx.close();
    }
  }

  void failConnection(ConnectionFailedException cause) {
    if (endCause == null) {
      endCause = cause;
    }
    closing = true;
    io.ctx().close();
  }

  /** The channel closed: how the connection ended. */
  Ending channelClosed() {
    if (keepAlive != null) {
      keepAlive.cancel(false);
    }
    if (endCause != null) {
      return new Ending(endCause, false);
    } else if (remoteGoAway == YamuxFrame.GO_AWAY_NORMAL) {
      return new Ending(null, true);
    } else if (localGoAway) {
      return new Ending(null, false);
    } else if (remoteGoAway > 0) {
      return new Ending(new ConnectionFailedException("the peer ended the connection with yamux go-away "
          + YamuxFrame.goAwayName(remoteGoAway), null), true);
    }
    return new Ending(new ConnectionFailedException("the peer closed the TCP connection without a yamux go-away",
        null), true);
  }
}
