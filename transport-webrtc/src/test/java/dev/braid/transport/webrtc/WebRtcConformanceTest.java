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

  /**
   * H8 (5,000 streams opened and closed in sequence on one connection) hangs in about 1 run in 8: libwebrtc hands a
   * freed SCTP stream id to the next new channel at once, while the peer is still closing that id (its reset comes
   * ~400 ms later); the peer drops the new channel's open message, so that stream's data never arrives and its
   * writer waits for credit for ever. Root cause and fix directions: transport-webrtc/README.md, "Known limits".
   * Declared here so that the matrix says so instead of failing at random; the fix is tracked in issue 14's notes.
   */
  @Override
  protected java.util.Map<String, String> knownFailures() {
    return java.util.Map.of("H8", "libwebrtc reuses an SCTP stream id before the peer finished closing it: the peer "
        + "drops the new channel's open message and the writer waits for ever (about 1 run in 8; README, Known limits)");
  }
}
