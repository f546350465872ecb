package dev.braid.transport.tcp;

import dev.braid.TransportOptions;
import dev.braid.conformance.ConformanceSuite;
import dev.braid.conformance.TransportFixture;

/**
 * The whole conformance kit over TLS 1.3 + yamux: {@code tcp.tls=true} makes the listener on
 * {@code tcp://127.0.0.1:0} generate a self-signed certificate and publish
 * {@code tcp+tls://127.0.0.1:PORT?certhash=...}, which the dialer pins.
 */
class TcpTlsConformanceTest extends ConformanceSuite {
  @Override
  protected TransportFixture createFixture() {
    return TcpFixture.of(TransportOptions.builder().property(TcpOptions.TLS.name(), "true").build());
  }
}
