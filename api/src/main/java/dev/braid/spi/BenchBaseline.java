package dev.braid.spi;

import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * What Braid is compared with in {@code braid bench}: the same workloads on the library under a transport, used
 * directly, without Braid, in the same run. A transport module supplies its own (kwik for QUIC, webrtc-java for
 * WebRTC) as a service ({@code provides dev.braid.spi.BenchBaseline with ...} and a line in
 * {@code META-INF/services/dev.braid.spi.BenchBaseline}), so the bench depends on the API alone; a transport
 * without one is compared with a raw JDK TCP socket.
 *
 * <p><b>Thread safety.</b> One instance is driven by one thread at a time; {@link #start()} before the
 * measurements, {@link #stop()} after them.
 */
public interface BenchBaseline {
  /** The transport this baseline belongs to. */
  String transportId();

  /** What the baseline is, e.g. "kwik 0.10.8 direct". */
  String name();

  /** Starts whatever server side the baseline needs. */
  void start() throws Exception;

  /** Stops it and frees every resource. */
  void stop() throws Exception;

  /** MB/s over one connection or stream. */
  double oneStreamThroughput(long bytes) throws Exception;

  /** Aggregate MB/s over {@code n} concurrent connections or streams. */
  double manyStreamsThroughput(int n, long perStream) throws Exception;

  /** Median µs to open a connection or stream and get one byte echoed. */
  double openFirstByteMicros(int samples) throws Exception;

  /** Median µs for a 64-byte round trip. */
  double roundTripMicros(int samples) throws Exception;

  /** Heap bytes per idle open connection or stream. */
  double memoryPerIdleStreamBytes(int n) throws Exception;

  /** The upper median of {@code samples}, as the bench computes it for Braid. */
  static double median(double[] samples) {
    double[] s = samples.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  /** Used heap bytes after three {@code System.gc()} calls, as the bench measures it for Braid. */
  static long usedHeap() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /**
   * Used heap once it has settled: {@link #usedHeap()} repeated (100 ms apart, at most 3 s) until two readings
   * differ by less than 64 KiB. State that the previous measurement is still releasing asynchronously would
   * otherwise be freed during this one and make it look negative.
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
}
