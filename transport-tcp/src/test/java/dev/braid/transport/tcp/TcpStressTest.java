package dev.braid.transport.tcp;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The fault runs scaled up (profile {@code stress}): mvn -B -o -pl transport-tcp test -Pstress. */
@Tag("stress")
@Timeout(600)
class TcpStressTest extends TcpResilienceTest {
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
