package dev.braid.transport.webrtc;

import dev.braid.conformance.FaultSuite;
import dev.braid.conformance.TransportFixture;

/**
 * The kit's fault rules against the WebRTC transport, in the test network namespace. F6 (a faulty path
 * through a loopback proxy) is skipped by the kit with its reason: ICE picks its own path. F2 kills a connection
 * with {@link WebRtcFixture}'s silent kill (an nftables filter cuts its UDP path).
 */
class WebRtcFaultTest extends FaultSuite {
  @Override
  protected TransportFixture createFixture() {
    NetnsCheck.requireTestNamespace();
    return new WebRtcFixture();
  }
}
