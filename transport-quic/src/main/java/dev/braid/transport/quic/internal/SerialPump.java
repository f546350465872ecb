package dev.braid.transport.quic.internal;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs one body on a shared executor, never concurrently with itself, at least once after every
 * {@link #poke()}. Pokes that arrive while the body runs coalesce into one more run. This is how a stream
 * moves bytes between kwik and Braid without a thread of its own: an idle stream costs no thread at all.
 *
 * <p>The body runs with the thread's interrupt flag cleared before and after: kwik wakes blocked readers and
 * writers with {@link Thread#interrupt()}, and a pooled thread must not carry such a flag into the next task
 * ({@link Kwik0108#clearInterrupt()}).
 *
 * <p><b>Thread safety.</b> Thread-safe; {@link #poke()} may be called from any thread, including kwik's.
 */
final class SerialPump implements Runnable {
  private static final System.Logger LOG = System.getLogger(SerialPump.class.getName());
  private static final int IDLE = 0;
  private static final int SCHEDULED = 1;
  private static final int RERUN = 2;

  private final Executor executor;
  private final Runnable body;
  private final String name;
  private final AtomicInteger state = new AtomicInteger(IDLE);

  SerialPump(Executor executor, String name, Runnable body) {
    this.executor = executor;
    this.name = name;
    this.body = body;
  }

  /** Makes the body run (again) soon. Never blocks, never throws. */
  void poke() {
    while (true) {
      int s = state.get();
      if (s == IDLE) {
        if (state.compareAndSet(IDLE, SCHEDULED)) {
          try {
            executor.execute(this);
          } catch (RejectedExecutionException e) {
            state.set(IDLE); // the transport is shutting down; nothing is left to move
          }
          return;
        }
      } else if (s == SCHEDULED) {
        if (state.compareAndSet(SCHEDULED, RERUN)) {
          return;
        }
      } else {
        return;
      }
    }
  }

  /**
   * Runs the body on the calling thread if the pump is idle (saving a thread hop), else pokes it. For callers whose
   * body never blocks; the caller's interrupt flag is left alone.
   */
  void runHereOrPoke() {
    if (!state.compareAndSet(IDLE, SCHEDULED)) {
      poke();
      return;
    }
    while (true) {
      try {
        body.run();
      } catch (RuntimeException | Error e) {
        LOG.log(System.Logger.Level.WARNING, "QUIC " + name + " pump failed; it stays usable", e);
      }
      if (state.compareAndSet(SCHEDULED, IDLE)) {
        return;
      }
      state.set(SCHEDULED);
    }
  }

  @Override
  public void run() {
    while (true) {
      Kwik0108.clearInterrupt();
      try {
        body.run();
      } catch (RuntimeException | Error e) {
        LOG.log(System.Logger.Level.WARNING, "QUIC " + name + " pump failed; it stays usable", e);
      } finally {
        Kwik0108.clearInterrupt();
      }
      if (state.compareAndSet(SCHEDULED, IDLE)) {
        return;
      }
      state.set(SCHEDULED); // RERUN: go round once more
    }
  }
}
