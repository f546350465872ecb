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
  static volatile KitSubject current;

  @Override
  protected TransportFixture createFixture() {
    KitSubject p = current;
    if (p == null) {
      throw new IllegalStateException("no transport selected");
    }
    return fixtureFor(p);
  }

  @Override
  protected FaultProxy.Kind faultyPath() {
    KitSubject s = current;
    return s == null ? null : pathOf(s.listener());
  }

  /**
   * The kit's fixture for a discovered transport: the reference transport's own, or the generic one over the path
   * its test address names, so that its connections can be killed without a word (rules N2, N5, F2).
   */
  static TransportFixture fixtureFor(KitSubject s) {
    if (s.dialer() instanceof dev.braid.conformance.reference.MemTransportProvider d
        && s.listener() instanceof dev.braid.conformance.reference.MemTransportProvider l) {
      return s.isPair() ? dev.braid.conformance.reference.MemFixture.across(d, l)
          : new dev.braid.conformance.reference.MemFixture(l);
    }
    FaultProxy.Kind path = pathOf(s.listener());
    dev.braid.TransportOptions defaults = dev.braid.TransportOptions.DEFAULTS;
    if (s.isPair()) {
      return path == null ? TransportFixture.across(s.dialer(), s.listener(), defaults)
          : TransportFixture.across(s.dialer(), s.listener(), defaults, path);
    }
    return path == null ? TransportFixture.of(s.listener()) : TransportFixture.of(s.listener(), defaults, path);
  }

  /** TCP for a {@code tcp...} test address, UDP for {@code quic...}; otherwise unknown (null). */
  static FaultProxy.Kind pathOf(TransportProvider p) {
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
