package dev.braid.cli.baseline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.cli.BenchBaseline;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The kwik baseline runs every workload over loopback with small sizes, and is found by ServiceLoader. */
class KwikBaselineTest {

  @Test
  void bothBaselinesAreRegistered() {
    Set<String> ids = ServiceLoader.load(BenchBaseline.class).stream().map(p -> p.get().transportId())
        .collect(Collectors.toSet());
    assertEquals(Set.of("quic", "webrtc"), ids);
  }

  @Test
  @Timeout(180)
  void everyWorkloadRunsOverKwik() throws Exception {
    KwikBaseline b = new KwikBaseline();
    b.start();
    try {
      assertTrue(b.oneStreamThroughput(1 << 20) > 0);
      assertTrue(b.manyStreamsThroughput(8, 64 << 10) > 0);
      assertTrue(b.openFirstByteMicros(10) > 0);
      assertTrue(b.roundTripMicros(20) > 0);
      assertTrue(b.memoryPerIdleStreamBytes(50) >= 0);
      assertTrue(b.oneStreamThroughput(64 << 10) > 0, "the connection still works after the idle streams ended");
    } finally {
      b.stop();
    }
  }
}
