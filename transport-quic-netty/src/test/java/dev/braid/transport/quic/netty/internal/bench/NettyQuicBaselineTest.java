package dev.braid.transport.quic.netty.internal.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.spi.BenchBaseline;
import java.time.Duration;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Netty QUIC baseline is found by ServiceLoader, runs every workload over loopback once with small sizes (no
 * retries: a stall fails the test), and leaves no thread behind.
 */
class NettyQuicBaselineTest {

  @Test
  void isFoundByServiceLoaderAsTheQuicNettyBaseline() {
    List<BenchBaseline> found = ServiceLoader.load(BenchBaseline.class).stream().map(ServiceLoader.Provider::get)
        .filter(b -> b.transportId().equals("quic-netty")).toList();
    assertEquals(1, found.size(), found.toString());
    assertEquals(NettyQuicBaseline.class, found.get(0).getClass());
  }

  @Test
  @Timeout(300)
  void everyWorkloadRunsOverNettyQuicAndStopFreesEveryThread() throws Exception {
    NettyQuicBaseline b = new NettyQuicBaseline(Duration.ofSeconds(30));
    b.start();
    try {
      figure("1 stream, 4 MiB (MB/s)", () -> b.oneStreamThroughput(4 << 20));
      figure("8 streams x 1 MiB (MB/s)", () -> b.manyStreamsThroughput(8, 1 << 20));
      figure("open + first byte, 20 samples (median us)", () -> b.openFirstByteMicros(20));
      figure("round trip 64 B, 20 samples (median us)", () -> b.roundTripMicros(20));
      figure("heap per idle stream, 200 streams (bytes)", () -> b.memoryPerIdleStreamBytes(200));
      figure("1 stream, 1 MiB, after the idle streams (MB/s)", () -> b.oneStreamThroughput(1 << 20));
      assertEquals(0, b.replacedConnections(), "no measurement failed");
    } finally {
      b.stop();
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    List<String> alive = baselineThreads();
    while (!alive.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(50);
      alive = baselineThreads();
    }
    assertTrue(alive.isEmpty(), "threads still alive after stop(): " + alive);
  }

  private static void figure(String what, Callable<Double> workload) throws Exception {
    long t0 = System.nanoTime();
    double v = workload.call();
    System.out.printf("Netty QUIC baseline, %s: %.1f (took %d ms)%n", what, v, (System.nanoTime() - t0) / 1_000_000);
    assertTrue(v > 0 && Double.isFinite(v), what + ": " + v);
  }

  private static List<String> baselineThreads() {
    return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
        .filter(n -> n.startsWith(NettyQuicBaseline.THREAD_PREFIX)).toList();
  }
}
