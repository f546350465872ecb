package dev.braid.spi;

import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Runs tasks one at a time, in submission order, on a shared executor: the usual way for a transport
 * to keep frames of one connection, or callbacks of one stream, in order without a thread of its own.
 *
 * <p><b>Thread safety.</b> Thread-safe. {@link #execute} never runs the task on the calling thread. A
 * task that throws is logged and the next task still runs (a {@link VirtualMachineError} other than
 * {@link OutOfMemoryError} is rethrown). Tasks submitted after the shared executor shut down are dropped
 * with a debug log: whatever they belonged to (a closed transport) is gone. The running thread's interrupt
 * flag is cleared before and after each task: some libraries (kwik) wake blocked threads with
 * {@link Thread#interrupt()}, and a flag left by one task must not reach the next task on a pooled thread.
 */
public final class SerialExecutor implements Executor {
  private static final System.Logger LOG = System.getLogger(SerialExecutor.class.getName());

  private final Executor delegate;
  private ArrayDeque<Runnable> tasks; // guarded by this; made with the first task (most executors of idle streams never run one)
  private boolean running; // guarded by this

  /** @param delegate the executor whose threads run the tasks */
  public SerialExecutor(Executor delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  @Override
  public void execute(Runnable task) {
    Objects.requireNonNull(task, "task");
    synchronized (this) {
      if (tasks == null) {
        tasks = new ArrayDeque<>(4);
      }
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
      LOG.log(System.Logger.Level.DEBUG, "task dropped: the executor behind it is shut down");
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
        if (e instanceof VirtualMachineError && !(e instanceof OutOfMemoryError)) {
          throw e;
        }
        LOG.log(System.Logger.Level.WARNING, "a Braid callback threw; it was isolated and the next one runs", e);
      } finally {
        Thread.interrupted();
      }
    }
  }
}
