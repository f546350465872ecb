package dev.braid.transport.webrtc.internal;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Polls data channels whose writers wait for the buffered amount to fall, on one shared scheduler.
 * webrtc-java 0.14.0 never fires {@code onBufferedAmountChange}, so a waiting sender registers a
 * {@link Waiter}; every {@value #PERIOD_MICROS} µs the poller calls each waiter once, keeping those that
 * are not done yet. No thread per stream.
 *
 * <p><b>Thread safety.</b> Thread-safe. Waiters are called on the scheduler's thread, never under a
 * lock of this class; a waiter that throws is logged and dropped.
 */
public final class BufferedAmountPoller {
  private static final System.Logger LOG = System.getLogger(BufferedAmountPoller.class.getName());
  static final long PERIOD_MICROS = 500;

  /** Something that waits for a data channel to drain. */
  public interface Waiter {
    /** Checks once; returns {@code true} when it needs no more polling. Must not block. */
    boolean poll();
  }

  private final ScheduledExecutorService scheduler;
  private final ConcurrentLinkedQueue<Waiter> waiting = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();

  /** @param scheduler the shared scheduler (owned by the transport) */
  public BufferedAmountPoller(ScheduledExecutorService scheduler) {
    this.scheduler = scheduler;
  }

  /** Polls {@code w} until it reports done. */
  public void register(Waiter w) {
    waiting.add(w);
    if (scheduled.compareAndSet(false, true)) {
      schedule();
    }
  }

  private void schedule() {
    try {
      scheduler.schedule(this::run, PERIOD_MICROS, TimeUnit.MICROSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      scheduled.set(false); // the transport is closing; waiters are abandoned with their streams
      waiting.clear();
    }
  }

  private void run() {
    int n = waiting.size();
    for (int i = 0; i < n; i++) {
      Waiter w = waiting.poll();
      if (w == null) {
        break;
      }
      boolean done;
      try {
        done = w.poll();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "a data channel drain check failed; it is dropped", e);
        done = true;
      }
      if (!done) {
        waiting.add(w);
      }
    }
    scheduled.set(false);
    if (!waiting.isEmpty() && scheduled.compareAndSet(false, true)) {
      schedule();
    }
  }
}
