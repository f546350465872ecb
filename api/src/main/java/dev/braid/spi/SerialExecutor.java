package dev.braid.spi;

import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * Runs tasks one at a time, in submission order, on a shared executor: the usual way for a transport
 * to keep frames of one connection, or callbacks of one stream, in order without a thread of its own.
 *
 * <p><b>Thread safety.</b> Thread-safe. {@link #execute} never runs the task on the calling thread. A
 * task that throws is logged and the next task still runs.
 */
public final class SerialExecutor implements Executor {
  private static final System.Logger LOG = System.getLogger(SerialExecutor.class.getName());

  private final Executor delegate;
  private final ArrayDeque<Runnable> tasks = new ArrayDeque<>(); // guarded by this
  private boolean running; // guarded by this

  /** @param delegate the executor whose threads run the tasks */
  public SerialExecutor(Executor delegate) {
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
    delegate.execute(this::drain);
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
        LOG.log(System.Logger.Level.WARNING, "a Braid callback threw; it was isolated and the next one runs", e);
      }
    }
  }
}
