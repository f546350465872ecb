package dev.braid.spi;

import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Daemon threads named after their owner ({@code braid-tcp-io-3}), the one way Braid and its transports make
 * threads: a transport's threads never keep a JVM alive, and a leak check or a thread dump names who started
 * them.
 *
 * <p><b>Thread safety.</b> Stateless; the factories are thread-safe.
 */
public final class DaemonThreads {
  private DaemonThreads() {}

  /** A factory of daemon threads named {@code prefix} followed by 1, 2, 3, ... */
  public static ThreadFactory factory(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** A pool of daemon threads named {@code prefix} 1, 2, ...: fixed at {@code size}, or cached when {@code size <= 0}. */
  public static ExecutorService pool(String prefix, int size) {
    ThreadFactory f = factory(prefix);
    return size <= 0 ? Executors.newCachedThreadPool(f) : Executors.newFixedThreadPool(size, f);
  }
}
