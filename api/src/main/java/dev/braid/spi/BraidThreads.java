package dev.braid.spi;

import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** Braid's shared event threads: daemon threads named {@code braid-events-N} that run listener callbacks. */
final class BraidThreads {
  /** Prefix of every thread this class starts; leak checks recognise them by it. */
  public static final String EVENT_THREAD_PREFIX = "braid-events-";

  private static final Executor EVENTS = newEventPool();
  private static final ScheduledExecutorService TIMER = newTimer();

  private BraidThreads() {}

  /** The shared executor for listener and handler callbacks; wrap it in a {@link SerialExecutor} for order. */
  public static Executor events() {
    return EVENTS;
  }

  /**
   * The shared timer for Braid's own deadlines (a terminal stream's linger bound). One daemon thread named
   * {@code braid-events-timer-N}, started on demand and gone after 2 s idle. Its tasks must only hand work on
   * (to {@link #events()} or a transport's executor): they never run user code or block.
   */
  public static ScheduledExecutorService timer() {
    return TIMER;
  }

  private static ScheduledExecutorService newTimer() {
    ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, DaemonThreads.factory(EVENT_THREAD_PREFIX + "timer-"));
    timer.setRemoveOnCancelPolicy(true);
    timer.setKeepAliveTime(2, TimeUnit.SECONDS);
    timer.allowCoreThreadTimeOut(true);
    return timer;
  }

  private static Executor newEventPool() {
    ThreadPoolExecutor pool = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 2, TimeUnit.SECONDS,
        new SynchronousQueue<>(), DaemonThreads.factory(EVENT_THREAD_PREFIX));
    return pool;
  }
}
