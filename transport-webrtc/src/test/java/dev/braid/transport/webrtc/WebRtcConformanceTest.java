package dev.braid.transport.webrtc;

import dev.braid.conformance.ConformanceSuite;
import dev.braid.conformance.TransportFixture;

/**
 * The whole conformance kit against the WebRTC transport. Runs inside the test network namespace that
 * {@code src/test/netns/bin/java} creates (libwebrtc gathers no loopback candidates). The kill rules (N2, N5) use
 * {@link WebRtcFixture}'s silent kill: an nftables filter cuts the connection's UDP path before it is aborted.
 */
class WebRtcConformanceTest extends ConformanceSuite {
  @Override
  protected TransportFixture createFixture() {
    NetnsCheck.requireTestNamespace();
    return new WebRtcFixture();
  }
}
