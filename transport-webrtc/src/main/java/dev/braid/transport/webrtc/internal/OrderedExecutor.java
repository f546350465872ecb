package dev.braid.transport.webrtc.internal;

import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Runs tasks one at a time, in submission order, on a shared pool: one per peer connection, so that
 * every native callback of that connection is handled in the order libwebrtc reported it, off
 * libwebrtc's signaling thread. A task that throws is logged and the next one runs; tasks submitted
 * after the pool shut down are dropped with a debug log (the connection is gone by then).
 *
 * <p><b>Thread safety.</b> Thread-safe.
 */
public final class OrderedExecutor implements Executor {
  private static final System.Logger LOG = System.getLogger(OrderedExecutor.class.getName());

  private final Executor delegate;
  private final ArrayDeque<Runnable> tasks = new ArrayDeque<>(); // guarded by this
  private boolean running; // guarded by this

  /** @param delegate the shared pool */
  public OrderedExecutor(Executor delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  @Override
  public void execute(Runnable task) {
    Objects.requireNonNull(task, "task");
    synchronized (this) {
      tasks.add(task);
      if (running) {
        return;
      }
      running = true;
    }
    try {
      delegate.execute(this::drain);
    } catch (RejectedExecutionException e) {
      synchronized (this) {
        tasks.clear();
        running = false;
      }
      LOG.log(System.Logger.Level.DEBUG, "webrtc: task dropped, the transport is closed");
    }
  }

  private void drain() {
    while (true) {
      Runnable next;
      synchronized (this) {
        next = tasks.poll();
        if (next == null) {
          running = false;
          return;
        }
      }
      try {
        next.run();
      } catch (RuntimeException | Error e) {
        if (e instanceof VirtualMachineError && !(e instanceof OutOfMemoryError)) {
          throw e;
        }
        LOG.log(System.Logger.Level.WARNING, "webrtc: a connection event handler failed; the next one runs", e);
      }
    }
  }
}
