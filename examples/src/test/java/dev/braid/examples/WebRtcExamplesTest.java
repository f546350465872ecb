package dev.braid.examples;

import org.junit.jupiter.api.Tag;

/**
 * The examples over {@code webrtc://}. libwebrtc never uses loopback: this JVM runs inside the private network
 * namespace that transport-webrtc's wrapper creates (Surefire's {@code jvm}, see the pom), and listens on that
 * namespace's own address ({@code BRAID_WEBRTC_TEST_ADDRESS}).
 */
@Tag("webrtc")
class WebRtcExamplesTest extends ExamplesSuite {
  @Override
  String transportId() {
    return "webrtc";
  }
}
