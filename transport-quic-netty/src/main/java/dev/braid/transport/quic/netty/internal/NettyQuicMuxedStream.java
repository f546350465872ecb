package dev.braid.transport.quic.netty.internal;

import dev.braid.ProtocolException;
import dev.braid.StreamResetException;
import dev.braid.StreamStateListener;
import dev.braid.spi.AbstractMuxedStream;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.ChannelOutputShutdownException;
import io.netty.handler.codec.quic.DefaultQuicStreamFrame;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamResetException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One bidirectional QUIC stream (a Netty {@link QuicStreamChannel}) as a Braid {@link dev.braid.MuxedStream}: Braid's
 * QUIC mapping, the same as the kwik transport's (see that transport's README for the state table).
 *
 * <ul>
 *   <li><b>Preamble.</b> The opener writes one byte, {@code 0x00}, before anything else; the acceptor takes it off
 *       before Braid sees any byte, and fails a stream that starts otherwise (a protocol violation). quiche cannot
 *       announce a stream with a zero-length STREAM frame, nor see one (cloudflare/quiche#731).</li>
 *   <li><b>Reading.</b> Netty reads from quiche only when asked ({@code AUTO_READ} off), and Braid asks only while
 *       its buffer is below {@code receiveWindow}: quiche returns flow-control credit for what is read, so a stalled
 *       reader holds the peer at about two windows.</li>
 *   <li><b>Codes.</b> RESET_STREAM and STOP_SENDING carry Braid's codes as they are (62-bit, through
 *       {@link NettyInternals}). closeRead sends STOP_SENDING with 2^32 + 0; the peer's RESET_STREAM answering it is the end
 *       of its sending part, not a reset.</li>
 *   <li><b>What Netty does not report</b> (a STOP_SENDING while no write waits, a reset while Braid is not reading,
 *       the peer's answer to our STOP_SENDING) is found by {@link #probe()} after each batch of datagrams.</li>
 * </ul>
 *
 * <p><b>Threads.</b> Hooks arrive on any thread and move to the connection's event loop ({@code onLoop}); Netty's
 * events arrive there. Fields marked "loop" are confined to it.
 *
 * <p><b>Thread safety.</b> Thread-safe, as {@link AbstractMuxedStream} is.
 */
final class NettyQuicMuxedStream extends AbstractMuxedStream {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic.netty");
  /** The preamble of Braid's QUIC mapping 1. */
  static final byte PREAMBLE = 0x00;
  /** closeRead's STOP_SENDING code (2^32 + the code Braid's core gives): never taken for a peer's own reset. */
  static final long CLOSE_READ_CODE = 1L << 32;

  private final NettyQuicConnection conn;
  private final QuicStreamChannel ch;
  /** This stream's tasks waiting on the loop: while any waits, a hook called on the loop waits behind them. */
  private final AtomicInteger queued = new AtomicInteger();
  // loop
  private boolean preambleDue;
  private boolean reading;
  private boolean inputEnded;
  private boolean finQueued;
  private boolean resetSent;
  private boolean stopHandled;
  private long stopSentCode = -1;
  private long peerResetCode = -1;
  private boolean closed;

  /** A peer's stream: its pipeline slot is made here. */
  NettyQuicMuxedStream(NettyQuicConnection conn, QuicStreamChannel ch, boolean local, StreamStateListener listener) {
    this(conn, ch, local, listener, newSlot(ch));
  }

  NettyQuicMuxedStream(NettyQuicConnection conn, QuicStreamChannel ch, boolean local, StreamStateListener listener,
      NettyQuicConnection.StreamSlot slot) {
    super(conn, ch.streamId(), local, false, listener);
    this.conn = conn;
    this.ch = ch;
    this.preambleDue = !local;
    slot.stream = this;
  }

  private static NettyQuicConnection.StreamSlot newSlot(QuicStreamChannel ch) {
    NettyQuicConnection.StreamSlot slot = new NettyQuicConnection.StreamSlot();
    ch.pipeline().addLast(slot);
    return slot;
  }

  // ---------------------------------------------------------------- the connection's calls (loop)

  void writePreamble() {
    ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {PREAMBLE})).addListener(f -> {
      if (!f.isSuccess()) {
        LOG.log(System.Logger.Level.DEBUG, "{0}: preamble not written: {1}", this, f.cause());
      }
    });
  }

  /** Whether Netty reads this stream from quiche only when Braid asks (tests: the back-pressure of both ends). */
  boolean readsOnlyWhenAsked() {
    return !ch.config().isAutoRead();
  }

  /** Diagnostics: Braid's and the wire's view of the stream (call from any thread; reads racy flags). */
  String describe() {
    CompletableFuture<String> f = new CompletableFuture<>();
    ch.eventLoop().execute(() -> f.complete(this + " " + state() + " preambleDue=" + preambleDue + " reading="
        + reading + " inputEnded=" + inputEnded + " finQueued=" + finQueued + " resetSent=" + resetSent
        + " stopHandled=" + stopHandled + " stopSent=" + stopSentCode + " peerReset=" + peerResetCode + " closed="
        + closed + " queued=" + queued + " channel active=" + ch.isActive() + " outShut=" + ch.isOutputShutdown()
        + " writable=" + ch.isWritable() + " quiche stopped=" + NettyInternals.stopped(ch.parent(), ch.streamId())
        + " finished=" + NettyInternals.finished(ch.parent(), ch.streamId()) + " buffered=" + bufferedInboundBytes()
        + " stats=" + ch.parent().collectStats().getNow()));
    try {
      return f.get(5, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      return this + " (not described: " + e + ")";
    }
  }

  void startReading() {
    reading = true;
    maybeRead();
  }

  /** Refuses a stream the connection never registered: RESET_STREAM and STOP_SENDING with {@code REFUSED}. */
  void refuseUnregistered() {
    onLoop(() -> {
      resetSent = true;
      inputEnded = true;
      shutdown(NettyInternals.SHUTDOWN_WRITE, StreamResetException.REFUSED);
      shutdown(NettyInternals.SHUTDOWN_READ, StreamResetException.REFUSED);
      NettyInternals.flush(ch.parent());
      closeChannel();
    });
  }

  void refuseRegistered(String why) {
    refuse(why);
  }

  /** What Netty did not report since the last batch (see the class comment). */
  void probe() {
    if (closed) {
      return;
    }
    readIfEnded();
    if (!resetSent && !stopHandled && NettyInternals.stopped(ch.parent(), ch.streamId())) {
      peerStoppedSending();
    }
  }

  /**
   * When quiche knows the peer's side ended but Netty has not said so. Reading makes Netty report a reset that Braid
   * was not reading (paused for back-pressure). What is still unreported after that, quiche never makes readable:
   * after our STOP_SENDING, the peer's answer (the end of its sending part); otherwise a FIN that arrived on its own
   * after every byte had been read (quiche keeps no empty buffer once it knows the final size, so Netty never reads
   * the FIN: without this the reader waited for good, kit rules H8 and R1 across implementations), or a reset that
   * came the same way, which quiche then cannot tell from a FIN (see the README's known failures).
   */
  private void readIfEnded() {
    if (inputEnded || !NettyInternals.finished(ch.parent(), ch.streamId())) {
      return;
    }
    ch.read();
    if (inputEnded) {
      return;
    }
    inputEnded = true;
    if (stopSentCode >= 0) {
      receiveEndOfInput();
    } else if (preambleDue) {
      badPreamble("it ended before its preamble");
    } else {
      receiveFin();
    }
  }

  // ---------------------------------------------------------------- Netty's events (loop)

  void onRead(ByteBuf buf) {
    try {
      if (preambleDue && buf.isReadable()) {
        byte first = buf.readByte();
        preambleDue = false;
        if (first != PREAMBLE) {
          badPreamble("its first byte is 0x" + Integer.toHexString(first & 0xFF) + ", not the preamble 0x00");
          return;
        }
      }
      if (buf.isReadable() && stopSentCode < 0 && !inputEnded) {
        receiveCopy(buf.nioBuffer());
      }
    } finally {
      buf.release();
    }
    maybeRead();
  }

  void onReadComplete() {
    maybeRead();
  }

  void onEvent(Object evt) {
    if (evt == ChannelInputShutdownReadComplete.INSTANCE && !inputEnded) {
      inputEnded = true;
      if (preambleDue) {
        badPreamble("it ended (FIN) before its preamble");
        return;
      }
      receiveFin();
    }
  }

  void onException(Throwable cause) {
    if (cause instanceof QuicStreamResetException reset) {
      if (inputEnded) {
        return;
      }
      inputEnded = true;
      long code = reset.applicationProtocolCode();
      if (stopSentCode >= 0 && code == stopSentCode) {
        receiveEndOfInput(); // the answer to our STOP_SENDING: the end of the peer's sending part, no reset
      } else {
        peerResetCode = code;
        receiveReset(code);
      }
      return;
    }
    LOG.log(System.Logger.Level.DEBUG, "{0}: stream error: {1}", this, cause.toString());
    fail(cause);
  }

  private void badPreamble(String what) {
    inputEnded = true;
    LOG.log(System.Logger.Level.WARNING, "{0}: the peer broke Braid''s QUIC mapping on this stream: {1}; the stream "
        + "fails", this, what);
    fail(new ProtocolException("the peer broke Braid's QUIC mapping on stream " + this + ": " + what));
  }

  /**
   * The peer sent STOP_SENDING (quiche has answered with RESET_STREAM already). A Braid peer's {@code reset(code)}
   * sends RESET_STREAM with it: that reset wins, so that writes fail with it (kit rules E1, F3), not with
   * {@code WriteClosedException}; a reset Braid is not reading is read first.
   */
  private void peerStoppedSending() {
    if (stopHandled || resetSent) {
      return;
    }
    readIfEnded(); // reports the peer's reset, if that came with it
    if (stopHandled || resetSent) {
      return;
    }
    stopHandled = true;
    if (peerResetCode == StreamResetException.REFUSED) {
      return;
    }
    receiveStopSending(0); // quiche does not give the code: 0 is what a Braid peer's closeRead means
  }

  private void maybeRead() {
    if (reading && !closed && !inputEnded && stopSentCode < 0
        && bufferedInboundBytes() < conn.receiveWindow()) {
      ch.read();
    }
  }

  // ---------------------------------------------------------------- Braid's hooks (any thread)

  /**
   * Runs {@code task} on the loop, after every task of this stream queued before it: inline when called on the loop
   * with nothing of this stream waiting. (A hook may run as soon as an earlier one returned, and the earlier one may
   * still wait on the loop: onFinished must not overtake the FIN it follows.)
   */
  private void onLoop(Runnable task) {
    if (ch.eventLoop().inEventLoop() && queued.get() == 0) {
      task.run();
      return;
    }
    queued.incrementAndGet();
    try {
      ch.eventLoop().execute(() -> {
        queued.decrementAndGet();
        task.run();
      });
    } catch (RejectedExecutionException closing) {
      queued.decrementAndGet();
      LOG.log(System.Logger.Level.DEBUG, "{0}: event loop gone; dropped a task", this);
    }
  }

  @Override
  protected CompletableFuture<Void> transmit(ByteBuffer data) {
    CompletableFuture<Void> sent = new CompletableFuture<>();
    onLoop(() -> ch.writeAndFlush(Unpooled.wrappedBuffer(data)).addListener(f -> {
      if (f.isSuccess()) {
        sent.complete(null);
      } else if (f.cause() instanceof ChannelOutputShutdownException && !resetSent) {
        // the peer's STOP_SENDING: let a reset in the same packet surface first, then report the stop
        ch.eventLoop().execute(() -> {
          peerStoppedSending();
          sent.completeExceptionally(f.cause()); // already failed by the core with the stop or the reset
        });
      } else {
        sent.completeExceptionally(f.cause());
      }
    }));
    return sent;
  }

  @Override
  protected void transmitFin() {
    onLoop(() -> {
      if (finQueued || resetSent || stopHandled) {
        return;
      }
      finQueued = true;
      // A FIN frame written like data waits behind any write still queued for capacity; shutdownOutput() would hand the
      // FIN to quiche at once, ahead of such writes (the preamble, say).
      ch.writeAndFlush(new DefaultQuicStreamFrame(Unpooled.EMPTY_BUFFER, true)).addListener(f -> {
        if (!f.isSuccess()) {
          LOG.log(System.Logger.Level.DEBUG, "{0}: FIN not sent: {1}", this, f.cause());
        }
      });
    });
  }

  @Override
  protected void transmitReset(long code) {
    onLoop(() -> {
      // The mapping's order: RESET_STREAM in a packet before the STOP_SENDING. quiche puts a STOP_SENDING ahead of a
      // RESET_STREAM in one packet, and a peer that sees the STOP_SENDING alone takes it for a closeRead (a kwik peer
      // then took our RESET_STREAM, with the same code as the stop it had just answered, for that answer and ended
      // CLOSED instead of RESET: ImmediateResetAcrossTest, kit rules C3 and C6 across implementations).
      if (!resetSent && !stopHandled) { // after our FIN too: the reset still reaches the peer (RFC 9000 §3.1)
        resetSent = true;
        shutdown(NettyInternals.SHUTDOWN_WRITE, code);
        NettyInternals.flush(ch.parent());
      }
      if (!inputEnded && stopSentCode < 0) {
        stopSentCode = code;
        shutdown(NettyInternals.SHUTDOWN_READ, code);
      }
      NettyInternals.flush(ch.parent());
    });
  }

  @Override
  protected void transmitStopSending(long code) {
    onLoop(() -> {
      if (inputEnded || stopSentCode >= 0) {
        return;
      }
      stopSentCode = CLOSE_READ_CODE + code;
      shutdown(NettyInternals.SHUTDOWN_READ, stopSentCode);
      NettyInternals.flush(ch.parent());
      readIfEnded(); // the FIN or a reset had arrived already, unread

    });
  }

  @Override
  protected void consumed(int bytes) {
    onLoop(this::maybeRead);
  }

  /**
   * Finished on the wire: what nothing ended yet is reset (after a peer's reset, with the peer's code), and the
   * channel is closed, so that quiche can free the stream and grant the peer another.
   */
  @Override
  protected void onFinished() {
    onLoop(() -> {
      if (conn.isOpen()) {
        long code = peerResetCode >= 0 ? peerResetCode : StreamResetException.INTERNAL_ERROR;
        if (!finQueued && !resetSent && !stopHandled) {
          resetSent = true;
          shutdown(NettyInternals.SHUTDOWN_WRITE, code);
        }
        if (!inputEnded && stopSentCode < 0) {
          stopSentCode = code;
          shutdown(NettyInternals.SHUTDOWN_READ, code);
        }
        NettyInternals.flush(ch.parent());
      }
      if (conn.isOpen()) {
        closeChannel();
      } else {
        // The connection is ending: Netty closes the channel after quiche's CONNECTION_CLOSE. Closing it here would
        // send a FIN first (Netty's close sends one for an output not ended), and the peer would read a graceful end
        // of a stream that the connection's end must fail (kit rule N1).
        closed = true;
        conn.forget(this);
      }
    });
  }

  private void closeChannel() {
    if (!closed) {
      closed = true;
      conn.forget(this);
      ch.close();
    }
  }

  private void shutdown(int direction, long code) {
    int r = NettyInternals.shutdown(ch.parent(), ch.streamId(), direction, code);
    if (r < 0 && r != NettyInternals.ERR_DONE) {
      LOG.log(System.Logger.Level.DEBUG, "{0}: quiche refused to shut {1} down with code {2}: error {3}", this,
          direction == NettyInternals.SHUTDOWN_WRITE ? "our sending part" : "our receiving part", code, r);
    }
  }
}
