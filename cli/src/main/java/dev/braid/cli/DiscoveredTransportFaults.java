package dev.braid.cli;

import dev.braid.conformance.FaultProxy;
import dev.braid.conformance.FaultSuite;
import dev.braid.conformance.TransportFixture;
import dev.braid.spi.TransportProvider;

/**
 * The kit's fault rules (F1-F6) aimed at whichever transport the command line is testing now, so that the
 * matrix shows every rule of SPEC.md. F6 needs to know what the transport's path is: a test address with a
 * {@code tcp} scheme runs over TCP, {@code quic} over UDP; other transports skip F6 with that reason.
 */
public class DiscoveredTransportFaults extends FaultSuite {
  static volatile TransportProvider current;

  @Override
  protected TransportFixture createFixture() {
    TransportProvider p = current;
    if (p == null) {
      throw new IllegalStateException("no transport selected");
    }
    return TransportFixture.of(p);
  }

  @Override
  protected FaultProxy.Kind faultyPath() {
    TransportProvider p = current;
    String scheme;
    try {
      scheme = p == null ? "" : String.valueOf(p.testListenAddress().getScheme());
    } catch (java.io.IOException e) {
      return null; // no test address: F6 is skipped with the reason FaultSuite gives
    }
    if (scheme.startsWith("tcp")) {
      return FaultProxy.Kind.TCP;
    }
    if (scheme.startsWith("quic")) {
      return FaultProxy.Kind.UDP;
    }
    return null;
  }
}
