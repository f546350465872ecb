package dev.braid.transport.tcp;

import dev.braid.TransportOptions;
import dev.braid.conformance.ConformanceSuite;
import dev.braid.conformance.TransportFixture;

/** The whole conformance kit on Netty's Java NIO I/O ({@code tcp.io=nio}), the fallback where epoll is unavailable. */
class TcpNioConformanceTest extends ConformanceSuite {
  @Override
  protected TransportFixture createFixture() {
    return TcpFixture.of(TransportOptions.builder().property(TcpOptions.IO.name(), "nio").build());
  }
}
