package dev.braid.transport.webrtc.internal.bench;

import static dev.braid.transport.webrtc.internal.bench.WebRtcJavaBaseline.TEST_ADDRESS_ENV;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.Collections;

/**
 * Where the baseline may run: libwebrtc never gathers loopback candidates, and benchmarks may only use a network
 * namespace the run created (brief §8), so {@link WebRtcJavaBaseline#start()} requires {@value
 * WebRtcJavaBaseline#TEST_ADDRESS_ENV} (which {@code bin/braid} sets when it runs the JVM in its private namespace as
 * root) and refuses to run when any other non-loopback interface is up.
 *
 * <p><b>Thread safety.</b> Stateless.
 */
final class TestNamespace {
  private TestNamespace() {}

  /** The test address: the system property {@value WebRtcJavaBaseline#TEST_ADDRESS_ENV}, else that variable. */
  static String address() {
    return System.getProperty(TEST_ADDRESS_ENV, System.getenv(TEST_ADDRESS_ENV));
  }

  /** Refuses to run unless inside a namespace whose only non-loopback address is the test address. */
  static void require() throws IOException {
    String set = address();
    if (set == null || set.isBlank()) {
      throw new IOException("webrtc-java baseline: libwebrtc never uses loopback, and benchmarks may only use a "
          + "network namespace the run created (brief §8); " + TEST_ADDRESS_ENV + " is not set. Run `bin/braid bench` "
          + "as root with iproute2: it starts the JVM in a private namespace and sets " + TEST_ADDRESS_ENV);
    }
    InetAddress test = InetAddress.getByName(set.trim());
    boolean found = false;
    for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!ni.isUp() || ni.isLoopback()) {
        continue;
      }
      for (InetAddress a : Collections.list(ni.getInetAddresses())) {
        if (a.equals(test)) {
          found = true;
        } else if (!a.isLinkLocalAddress()) {
          throw new IOException("webrtc-java baseline: interface " + ni.getName() + " has address " + a.getHostAddress()
              + " besides the test address " + test.getHostAddress() + "; libwebrtc would use it, and benchmarks may "
              + "only use the run's own network namespace (brief §8). Run `bin/braid bench` as root.");
        }
      }
    }
    if (!found) {
      throw new IOException("webrtc-java baseline: no interface that is up has " + TEST_ADDRESS_ENV + "="
          + test.getHostAddress());
    }
  }
}
