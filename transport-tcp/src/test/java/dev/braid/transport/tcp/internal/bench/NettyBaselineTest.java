package dev.braid.transport.tcp.internal.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.spi.BenchBaseline;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The plain-Netty baseline is found by ServiceLoader as a TCP baseline and runs every workload (small sizes). */
class NettyBaselineTest {
  @Test
  void isFoundAsATcpBaseline() {
    List<BenchBaseline> tcp = ServiceLoader.load(BenchBaseline.class).stream().map(ServiceLoader.Provider::get)
        .filter(b -> b.transportId().equals("tcp")).toList();
    assertEquals(1, tcp.size(), tcp.toString());
    assertEquals(NettyBaseline.class, tcp.get(0).getClass());
  }

  @Test
  @Timeout(120)
  void everyWorkloadRuns() throws Exception {
    NettyBaseline b = new NettyBaseline();
    b.start();
    try {
      assertTrue(b.oneStreamThroughput(4 << 20) > 0);
      assertTrue(b.manyStreamsThroughput(8, 256 << 10) > 0);
      assertTrue(b.openFirstByteMicros(10) > 0);
      assertTrue(b.roundTripMicros(50) > 0);
      assertTrue(b.memoryPerIdleStreamBytes(50) >= 0);
      assertTrue(b.oneStreamThroughput(1 << 20) > 0, "the baseline still works after the idle connections");
    } finally {
      b.stop();
    }
  }
}
