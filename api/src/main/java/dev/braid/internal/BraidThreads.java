package dev.braid.internal;

import java.util.concurrent.Executor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Braid's shared event threads: daemon threads named {@code braid-events-N} that run listener callbacks. */
public final class BraidThreads {
  /** Prefix of every thread this class starts; leak checks recognise them by it. */
  public static final String EVENT_THREAD_PREFIX = "braid-events-";

  private static final Executor EVENTS = newEventPool();

  private BraidThreads() {}

  /** The shared executor for listener and handler callbacks; wrap it in a {@link SerialExecutor} for order. */
  public static Executor events() {
    return EVENTS;
  }

  /** A daemon thread factory with the given name prefix. */
  public static ThreadFactory daemonFactory(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  private static Executor newEventPool() {
    ThreadPoolExecutor pool = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 2, TimeUnit.SECONDS,
        new SynchronousQueue<>(), daemonFactory(EVENT_THREAD_PREFIX));
    return pool;
  }
}
