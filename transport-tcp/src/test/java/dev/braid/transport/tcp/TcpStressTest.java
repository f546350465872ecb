package dev.braid.transport.tcp;

import dev.braid.TransportOptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The fault runs scaled up (profile {@code stress}): mvn -B -o -pl transport-tcp test -Pstress. */
@Tag("stress")
@Timeout(600)
class TcpStressTest extends TcpResilienceTest {
  @Override
  TransportOptions options() {
    // the storm opens 10,000 streams while the other end resets them: never let a lagging end hit the limit
    return TransportOptions.builder().maxStreams(20_000).build();
  }

  @Test
  void resetStormOnTenThousandStreams() throws Exception {
    resetStorm(10_000);
  }

  @Test
  void killMidTransferRepeatedly() throws Exception {
    for (int i = 0; i < 20; i++) {
      tearDown();
      connectPair();
      killMidTransferEndsEveryStream();
    }
  }
}
