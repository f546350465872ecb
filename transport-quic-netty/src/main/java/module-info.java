/**
 * Braid's second QUIC transport, on Netty's QUIC codec (quiche and BoringSSL in one JNI library): one bidirectional
 * QUIC stream per {@link dev.braid.MuxedStream}, speaking the same mapping as {@code dev.braid.transport.quic} (kwik).
 *
 * <p>On the module path, Netty's QUIC package must be open to this module: quiche takes 62-bit error codes, Netty's API
 * only {@code int}, so reset codes and STOP_SENDING go through quiche's own binding
 * ({@code --add-opens io.netty.codec.classes.quic/io.netty.handler.codec.quic=dev.braid.transport.quic.netty}).
 * Without it the provider reports itself unavailable and says so.
 */
module dev.braid.transport.quic.netty {
  requires transitive dev.braid.api;
  requires io.netty.codec.classes.quic;
  requires io.netty.transport;
  requires io.netty.buffer;
  requires io.netty.common;
  requires io.netty.handler;

  exports dev.braid.transport.quic.netty;

  provides dev.braid.spi.TransportProvider with dev.braid.transport.quic.netty.NettyQuicTransportProvider;
  // braid bench: Netty's QUIC codec used directly, what Braid's quic-netty is compared with
  provides dev.braid.spi.BenchBaseline with dev.braid.transport.quic.netty.internal.bench.NettyQuicBaseline;
}
