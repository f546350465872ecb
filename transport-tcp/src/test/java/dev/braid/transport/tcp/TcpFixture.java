package dev.braid.transport.tcp;

import dev.braid.TransportOptions;
import dev.braid.conformance.FaultProxy;
import dev.braid.conformance.TransportFixture;

/**
 * The kit's provider fixture over TCP. The kit keeps these options' properties (tcp.tls=true, tcp.io=nio) when a rule
 * rebuilds the fixture with other limits, and its killable variant routes connections through the kit's TCP
 * proxy, which kills them without a word.
 */
final class TcpFixture {
  private TcpFixture() {}

  static TransportFixture of(TransportOptions options) {
    return TransportFixture.of(new TcpTransportProvider(), options, FaultProxy.Kind.TCP);
  }
}
