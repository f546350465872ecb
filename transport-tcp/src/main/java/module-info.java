/**
 * Braid's TCP transport: TCP (optionally TLS) via Netty, with a yamux stream multiplexer.
 */
module dev.braid.transport.tcp {
  requires transitive dev.braid.api;
  requires io.netty.buffer;
  requires io.netty.common;
  requires io.netty.transport;
  requires io.netty.codec;
  requires io.netty.handler;
  requires static io.netty.transport.classes.epoll; // used only when present and its native library loads

  exports dev.braid.transport.tcp;

  provides dev.braid.spi.TransportProvider with dev.braid.transport.tcp.TcpTransportProvider;
  // braid bench: a plain Netty channel without yamux, TCP's second baseline
  provides dev.braid.spi.BenchBaseline with dev.braid.transport.tcp.internal.bench.NettyBaseline;
}
