package dev.braid.transport.webrtc.internal.bench;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * Outside a test network namespace the webrtc-java baseline refuses to start, saying why (its workloads
 * run under {@code bin/braid bench}, which runs the JVM in a namespace as root). Inside one (Surefire forks this
 * module's test JVM into a private namespace) it connects and measures every figure, on small workloads.
 */
class WebRtcJavaBaselineTest {

  private static boolean insideTestNamespace() {
    return System.getenv(WebRtcJavaBaseline.TEST_ADDRESS_ENV) != null
        || System.getProperty(WebRtcJavaBaseline.TEST_ADDRESS_ENV) != null;
  }

  @Test
  void refusesToRunOutsideTheTestNamespace() {
    assumeTrue(!insideTestNamespace(), "this JVM runs inside a test namespace; the refusal cannot be observed here");
    IOException e = assertThrows(IOException.class, () -> new WebRtcJavaBaseline().start());
    assertTrue(e.getMessage().contains(WebRtcJavaBaseline.TEST_ADDRESS_ENV), e.getMessage());
    assertTrue(e.getMessage().contains("bin/braid bench"), e.getMessage());
  }

  @Test
  void connectsAndMeasuresEveryFigureInsideTheTestNamespace() throws Exception {
    assumeTrue(insideTestNamespace(), "needs the test namespace (Surefire's JVM wrapper, as root)");
    WebRtcJavaBaseline b = new WebRtcJavaBaseline();
    b.start();
    try {
      double one = b.oneStreamThroughput(4L << 20);
      double many = b.manyStreamsThroughput(8, 256L << 10);
      double open = b.openFirstByteMicros(5);
      double rtt = b.roundTripMicros(50);
      double idle = b.memoryPerIdleStreamBytes(16);
      String figures = "one channel " + one + " MB/s, 8 channels " + many + " MB/s, open + first byte " + open
          + " us, round trip " + rtt + " us, " + idle + " bytes per idle channel";
      assertPositive(one, figures);
      assertPositive(many, figures);
      assertPositive(open, figures);
      assertPositive(rtt, figures);
      assertTrue(idle >= 0 && Double.isFinite(idle), figures);
    } finally {
      b.stop();
    }
  }

  private static void assertPositive(double figure, String figures) {
    assertTrue(figure > 0 && Double.isFinite(figure), figures);
  }
}
