package dev.braid.transport.tcp;

import dev.braid.TransportOptions;
import dev.braid.conformance.FaultProxy;
import dev.braid.conformance.FaultSuite;
import dev.braid.conformance.TransportFixture;

/** The kit's fault rules (F1–F6) over TLS + yamux (the proxy forwards the TLS bytes untouched). */
class TcpTlsFaultTest extends FaultSuite {
  @Override
  protected TransportFixture createFixture() {
    return TcpFixture.of(TransportOptions.builder().property(TcpOptions.TLS.name(), "true").build());
  }

  @Override
  protected FaultProxy.Kind faultyPath() {
    return FaultProxy.Kind.TCP;
  }
}
