package dev.braid.cli.baseline;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The helpers the baselines share with {@code dev.braid.cli.Bench}, computed the same way: the median of
 * samples, and the used heap after three full collections.
 *
 * <p><b>Thread safety.</b> Stateless; every method may be called from any thread.
 */
final class Measures {
  private Measures() {}

  /** The upper median, as {@code Bench.median} computes it. */
  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  /** Used heap bytes after three {@code System.gc()} calls, as {@code Bench.usedHeap} measures it. */
  static long usedHeap() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /**
   * Used heap once it has settled: {@link #usedHeap()} repeated (100 ms apart, at most 3 s) until two readings
   * differ by less than 64 KiB. State that the previous measurement (Braid's, just before) is still releasing
   * asynchronously would otherwise be freed during the baseline's measurement and make it look negative.
   */
  static long settledHeap() throws InterruptedException {
    long last = usedHeap();
    long deadline = System.nanoTime() + 3_000_000_000L;
    while (System.nanoTime() < deadline) {
      Thread.sleep(100);
      long now = usedHeap();
      if (Math.abs(now - last) < 64 * 1024) {
        return now;
      }
      last = now;
    }
    return last;
  }

  /** A pool of daemon threads named {@code prefix-N}; {@code size <= 0} means a cached pool. */
  static ExecutorService daemonPool(String prefix, int size) {
    AtomicInteger count = new AtomicInteger();
    java.util.concurrent.ThreadFactory f = r -> {
      Thread t = new Thread(r, prefix + "-" + count.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
    return size <= 0 ? Executors.newCachedThreadPool(f) : Executors.newFixedThreadPool(size, f);
  }
}
