package dev.braid.transport.tcp.internal;

import static dev.braid.transport.tcp.internal.YamuxFrame.TYPE_DATA;
import static dev.braid.transport.tcp.internal.YamuxFrame.TYPE_WINDOW_UPDATE;

import dev.braid.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * Yamux flow control of one session, both ways: sending within the peer's window (the send queue of streams
 * waiting for credit or writability), and granting our window back as the application consumes.
 *
 * <p><b>Flow control is the backpressure.</b> A {@code transmit} is parked on its stream until the peer's
 * window has room; {@link #drain} then cuts it into Data frames no longer than the window and the outbound
 * frame size, copies each into a direct buffer and writes it, but only while the channel is writable (so
 * Netty's outbound buffer never grows past its high-water mark plus one frame). The transmit future
 * completes once the last byte was handed to the channel: the caller may then reuse its buffer. Inbound, a
 * peer that sends more than the window we granted is a protocol error ({@link StreamWire#receive}); received
 * bytes are handed to the stream, which grants the window back as the application consumes them (batched:
 * an update goes out once half the window was consumed).
 *
 * <p><b>Thread safety.</b> {@link #transmit} and {@link #consumed} may be called from any thread; the rest runs
 * on the event loop.
 */
final class FlowControl {
  /** Largest transmit sent on the caller's thread; bounds what one writer can add past the high-water mark. */
  private static final int FAST_PATH_MAX = 1024 * 1024;

  private final SessionIo io;
  private final int outboundFrameSize;

  // Event loop only.
  private final ArrayDeque<StreamWire> ready = new ArrayDeque<>(); // parked transmits with window
  private boolean draining;

  FlowControl(SessionIo io, int outboundFrameSize) {
    this.io = io;
    this.outboundFrameSize = outboundFrameSize;
  }

  /**
   * Sends {@code data} on the stream. Fast path (any thread): when the peer's window covers all of it and
   * the channel is writable, the caller copies it into frames and hands them to the channel at once
   * (Netty counts a write submitted from outside the event loop against writability immediately), and the
   * future is already complete. Otherwise the data is parked on the stream and the event loop's drain
   * sends it as window and writability allow.
   */
  CompletableFuture<Void> transmit(StreamWire w, ByteBuffer data) {
    int n = data.remaining();
    ChannelHandlerContext ctx = io.ctx();
    if (n <= FAST_PATH_MAX && (!io.inEventLoop() || !w.hasQueuedOps())
        && ctx.channel().bytesBeforeUnwritable() >= n && w.tryReserve(n)) {
      int frameCount = (n + outboundFrameSize - 1) / outboundFrameSize;
      ByteBuf frames = ctx.alloc().ioBuffer(n + YamuxFrame.HEADER_LENGTH * frameCount);
      ByteBuffer src = data.duplicate();
      while (src.hasRemaining()) {
        int k = Math.min(src.remaining(), outboundFrameSize);
        YamuxFrame.writeHeader(frames, TYPE_DATA, 0, w.id(), k);
        ByteBuffer chunk = src.duplicate();
        chunk.limit(chunk.position() + k);
        frames.writeBytes(chunk);
        src.position(src.position() + k);
      }
      io.writeOrdered(w, frames);
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> future = new CompletableFuture<>();
    io.runOrdered(w, () -> {
      if (!w.park(data, future)) {
        return;
      }
      if (w.canSend() && w.enqueue()) {
        ready.add(w);
      }
      if (!draining) {
        drain(); // a transmit completed inside drain() is picked up by that loop instead
        io.flushIfNeeded();
      }
    }, future);
    return future;
  }

  /** Writes Data frames, round-robin over streams with data and window, while the channel is writable. */
  void drain() {
    if (draining) {
      return;
    }
    draining = true;
    ChannelHandlerContext ctx = io.ctx();
    try {
      while (!ready.isEmpty() && ctx.channel().isWritable()) {
        StreamWire w = ready.poll();
        w.dequeued();
        ByteBuffer src = w.parked();
        long window = w.sendWindow();
        if (src == null || window <= 0) {
          continue;
        }
        int n = (int) Math.min(Math.min(src.remaining(), window), outboundFrameSize);
        ByteBuf frame = ctx.alloc().ioBuffer(YamuxFrame.HEADER_LENGTH + n);
        YamuxFrame.writeHeader(frame, TYPE_DATA, 0, w.id(), n);
        ByteBuffer chunk = src.duplicate();
        chunk.limit(chunk.position() + n);
        frame.writeBytes(chunk);
        io.write(frame);
        CompletableFuture<Void> done = w.sent(n);
        if (done != null) {
          done.complete(null); // may transmit again on this stream: it re-queues itself
        } else if (w.sendWindow() > 0 && w.enqueue()) {
          ready.add(w);
        }
      }
    } finally {
      draining = false;
    }
  }

  /** A window update (not RST) from the peer: a parked transmit that now has window joins the queue. */
  void windowUpdate(StreamWire w, long delta) throws ProtocolException {
    w.grow(delta);
    if (w.canSend() && w.enqueue()) {
      ready.add(w);
    }
  }

  /**
   * The application consumed {@code bytes} of the stream: once half its window has been consumed, grant it
   * back with one Window Update, which may grow the window too ({@link WindowTuner}). Counted on the caller's
   * thread; only a read that finds the threshold crossed and no update queued wakes the event loop. (The window,
   * and so the threshold, may grow meanwhile: the queued flag, not the crossing, decides who wakes it.)
   */
  void consumed(StreamWire w, int bytes) {
    long c = w.addCredit(bytes);
    if (c < w.window() / 2 || !w.queueUpdate()) {
      return; // below the threshold, or an update is already queued and will take these too
    }
    io.run(() -> {
      long delta = w.takeCredit(System.nanoTime()); // clears the queued flag first: later credit queues anew
      if (delta > 0) {
        io.writeControl(TYPE_WINDOW_UPDATE, 0, w.id(), delta);
        io.flushIfNeeded();
      }
    }, null);
  }

  /** The channel is gone: nothing more is sent. */
  void clear() {
    ready.clear();
  }
}
