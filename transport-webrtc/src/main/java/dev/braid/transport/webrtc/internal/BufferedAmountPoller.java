package dev.braid.transport.webrtc.internal;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Polls data channels whose writers wait for the buffered amount to fall, on one shared scheduler: every
 * {@value #PERIOD_MICROS} µs the poller calls each registered {@link Waiter} once, keeping those that are not done
 * yet. No thread per stream, and nothing runs while no one waits.
 *
 * <p><b>Why this polls.</b> libwebrtc reports a draining send buffer only through
 * {@code DataChannelObserver::OnBufferedAmountChange}, and webrtc-java 0.14.0 does not forward it: its native
 * observer looks up and calls only {@code onStateChange} and {@code onMessage} (the JNI library's strings hold no
 * {@code onBufferedAmountChange}, and {@code RTCDataChannelObserver.onBufferedAmountChange} is never called). The
 * forwarding came with webrtc-java's fix for issue 143 (pull request 206), first released after 0.14.0; 0.15.0 is not
 * served to this build. Nothing else tells when bytes left the buffer, so a writer held above the high-water mark,
 * and a graceful close waiting for every channel to drain ({@link WebRtcConnection}), ask
 * {@code getBufferedAmount()} here. A writer waiting for the peer's credit is never polled: the window update that
 * grants it is an event. With a webrtc-java that forwards the callback, {@link Waiter#poll()} could be called from
 * it instead, and this class would go.
 *
 * <p><b>Thread safety.</b> Thread-safe. Waiters are called on the scheduler's thread, never under a
 * lock of this class; a waiter that throws is logged and dropped.
 */
final class BufferedAmountPoller {
  private static final System.Logger LOG = System.getLogger(BufferedAmountPoller.class.getName());
  static final long PERIOD_MICROS = 500;

  /** Something that waits for a data channel to drain. */
  interface Waiter {
    /** Checks once; returns {@code true} when it needs no more polling. Must not block. */
    boolean poll();
  }

  private final ScheduledExecutorService scheduler;
  private final ConcurrentLinkedQueue<Waiter> waiting = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();

  /** @param scheduler the shared scheduler (owned by the transport) */
  BufferedAmountPoller(ScheduledExecutorService scheduler) {
    this.scheduler = scheduler;
  }

  /** Polls {@code w} until it reports done. */
  void register(Waiter w) {
    waiting.add(w);
    if (scheduled.compareAndSet(false, true)) {
      schedule();
    }
  }

  private void schedule() {
    try {
      scheduler.schedule(this::run, PERIOD_MICROS, TimeUnit.MICROSECONDS);
    } catch (RejectedExecutionException e) {
      // The transport is closing: its connections end, and the waiters with them.
      LOG.log(System.Logger.Level.DEBUG, "webrtc: {0} drain waiters dropped; the transport is closed", waiting.size());
      scheduled.set(false);
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
