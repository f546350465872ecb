package dev.braid.transport.webrtc.internal.bench;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * Outside a test network namespace the webrtc-java baseline refuses to start, saying why (its workloads
 * run under {@code bin/braid bench}, which runs the JVM in a namespace as root).
 */
class WebRtcJavaBaselineTest {

  @Test
  void refusesToRunOutsideTheTestNamespace() {
    assumeTrue(System.getenv(WebRtcJavaBaseline.TEST_ADDRESS_ENV) == null
        && System.getProperty(WebRtcJavaBaseline.TEST_ADDRESS_ENV) == null,
        "this JVM runs inside a test namespace; the refusal cannot be observed here");
    IOException e = assertThrows(IOException.class, () -> new WebRtcJavaBaseline().start());
    assertTrue(e.getMessage().contains(WebRtcJavaBaseline.TEST_ADDRESS_ENV), e.getMessage());
    assertTrue(e.getMessage().contains("bin/braid bench"), e.getMessage());
  }
}
