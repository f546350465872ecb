package dev.braid.transport.quic.internal;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Runs tasks one at a time, in order, on a shared executor.
 *
 * <p><b>Thread safety.</b> Thread-safe. A task that throws is logged and the next one runs.
 */
final class SerialQueue implements Executor {
  private static final System.Logger LOG = System.getLogger(SerialQueue.class.getName());
  private final Executor delegate;
  private final ArrayDeque<Runnable> tasks = new ArrayDeque<>(); // guarded by this
  private boolean running; // guarded by this

  SerialQueue(Executor delegate) {
    this.delegate = delegate;
  }

  @Override
  public void execute(Runnable task) {
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
        running = false;
        tasks.clear();
      }
      LOG.log(System.Logger.Level.DEBUG, "dropping QUIC tasks: the transport is closed");
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
      Thread.interrupted();
      try {
        next.run();
      } catch (RuntimeException | Error e) {
        LOG.log(System.Logger.Level.WARNING, "a QUIC task failed; the next one runs", e);
      } finally {
        Thread.interrupted();
      }
    }
  }
}
