package dev.braid.transport.webrtc;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Runs {@link WebRtcBenchmark} under Surefire (so inside the test network namespace): {@code -Pbench}. */
@Tag("benchmark")
class WebRtcBenchmarkRunner {
  @Test
  @Timeout(900)
  void run() throws Exception {
    WebRtcBenchmark.main(new String[0]);
  }
}
