package dev.braid.transport.webrtc;

/** Makes sure WebRTC tests run inside the private network namespace the test wrapper creates. */
final class NetnsCheck {
  private NetnsCheck() {}

  static void requireTestNamespace() {
    if (System.getenv(WebRtcTransportProvider.TEST_ADDRESS_ENV) == null || System.getenv("BRAID_NETNS") == null) {
      throw new IllegalStateException("WebRTC tests must run inside the test network namespace (libwebrtc never uses "
          + "loopback, and tests may not use this machine's real interfaces): run them through Maven, whose Surefire "
          + "forks the JVM via transport-webrtc/src/test/netns/bin/java (needs root and iproute2)");
    }
  }
}
