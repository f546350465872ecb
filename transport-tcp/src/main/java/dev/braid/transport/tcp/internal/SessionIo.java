package dev.braid.transport.tcp.internal;

import dev.braid.ConnectionFailedException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * What the parts of a yamux session share: the channel (its context), frames out with one flush per batch,
 * and running work on the event loop, in each stream's order ({@link #runOrdered}).
 *
 * <p><b>Thread safety.</b> {@link #runOrdered}, {@link #run} and {@link #writeOrdered} may be called from any
 * thread; everything else on the event loop only. The context is set once, before the connection exists.
 */
final class SessionIo {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.tcp");

  private final Consumer<ConnectionFailedException> internalError;
  private ChannelHandlerContext ctx;
  private TcpConnection connection; // null until the channel is active

  // Event loop only.
  private boolean flushNeeded;
  private boolean goAwaySent; // nothing follows our go-away: the output is shut down

  /** @param internalError ends the connection when a task on the event loop throws */
  SessionIo(Consumer<ConnectionFailedException> internalError) {
    this.internalError = internalError;
  }

  void attach(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  ChannelHandlerContext ctx() {
    return ctx;
  }

  void connected(TcpConnection connection) {
    this.connection = connection;
  }

  /** The connection, or null before the channel was active. */
  TcpConnection connection() {
    return connection;
  }

  boolean inEventLoop() {
    return ctx.executor().inEventLoop();
  }

  // ---------------------------------------------------------------- frames out (event loop)

  /** Writes a header-only frame unless the channel is gone or our go-away went out; {@link #flushIfNeeded} flushes. */
  void writeControl(int type, int flags, long streamId, long length) {
    if (ctx.channel().isActive() && !goAwaySent) {
      ctx.write(YamuxFrame.control(ctx.alloc(), type, flags, streamId, length), ctx.voidPromise());
      flushNeeded = true;
    }
  }

  /** Writes a frame; flushed by {@link #flushIfNeeded}. */
  void write(ByteBuf frame) {
    ctx.write(frame, ctx.voidPromise());
    flushNeeded = true;
  }

  void flushIfNeeded() {
    if (flushNeeded) {
      flushNeeded = false;
      ctx.flush();
    }
  }

  /** Our go-away is about to be written (and flushed) as the connection's last frame. */
  void goAwaySent() {
    goAwaySent = true;
    flushNeeded = false;
  }

  boolean isGoAwaySent() {
    return goAwaySent;
  }

  // ---------------------------------------------------------------- running on the event loop

  /**
   * Runs an outbound operation of a stream (data, FIN, RST, its removal) on the event loop so that the
   * stream's frames reach the channel in the order of the stream's operations, by construction: inline only
   * when called on the loop and none of the stream's earlier operations still waits in the loop's task queue;
   * otherwise queued behind them (the task queue is FIFO, and an operation is issued only after the previous
   * one was handed over). Before this, a FIN sent inline by the loop (after a write that waited for credit
   * completed there) could overtake the last data frames an application thread had just queued: the peer saw
   * end-of-stream early, then data after FIN (issue 18).
   */
  void runOrdered(StreamWire w, Runnable task, CompletableFuture<?> onReject) {
    if (inEventLoop() && !w.hasQueuedOps()) {
      run(task, onReject);
      return;
    }
    w.opQueued();
    try {
      ctx.executor().execute(() -> {
        w.opDequeued();
        run(task, onReject);
      });
    } catch (RejectedExecutionException e) {
      w.opDequeued();
      rejected(e, onReject);
    }
  }

  /**
   * Writes and flushes a stream's data frames from any thread (the transmit fast path). Off the loop Netty
   * queues the write as a task; until it has run, the stream's later operations queue behind it
   * ({@link #runOrdered}), never written inline by the loop ahead of it.
   */
  void writeOrdered(StreamWire w, ByteBuf frames) {
    if (inEventLoop()) {
      ctx.writeAndFlush(frames, ctx.voidPromise());
      return;
    }
    w.opQueued();
    ctx.writeAndFlush(frames, ctx.voidPromise());
    try {
      ctx.executor().execute(w::opDequeued);
    } catch (RejectedExecutionException e) {
      w.opDequeued(); // the loop is gone: nothing more will be written anyway
      LOG.log(System.Logger.Level.DEBUG, "{0}: event loop gone after a write on stream {1}", connection, w.id());
    }
  }

  /** Runs {@code task} on the event loop; if the loop is gone, fails {@code onReject} (when given). */
  void run(Runnable task, CompletableFuture<?> onReject) {
    Runnable guarded = () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "yamux session task failed on " + connection, e);
        if (onReject != null) {
          onReject.completeExceptionally(new ConnectionFailedException("internal error: " + e, e));
        }
        internalError.accept(new ConnectionFailedException("internal error: " + e, e));
      }
    };
    if (inEventLoop()) {
      guarded.run();
      return;
    }
    try {
      ctx.executor().execute(guarded);
    } catch (RejectedExecutionException e) {
      rejected(e, onReject);
    }
  }

  private void rejected(RejectedExecutionException e, CompletableFuture<?> onReject) {
    if (onReject != null) {
      onReject.completeExceptionally(new ConnectionFailedException("the transport is shut down", e));
    } else {
      // The channel, and every stream with it, ended when its loop shut down: nothing is left to do.
      LOG.log(System.Logger.Level.DEBUG, "{0}: event loop gone; task dropped: {1}", connection, e);
    }
  }

  /** A timer task that never lets an exception reach the event loop. */
  Runnable guarded(Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "yamux session timer failed on " + connection, e);
        internalError.accept(new ConnectionFailedException("internal error: " + e, e));
      }
    };
  }

  /** Runs a callback into Braid or the transport; an exception is logged, never propagated into Netty. */
  void safely(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "callback failed on " + connection, e);
    }
  }
}
