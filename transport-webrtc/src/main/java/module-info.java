/** Braid's WebRTC transport (webrtc-java data channels, HTTP signaling with Netty). */
module dev.braid.transport.webrtc {
  requires transitive dev.braid.api;
  requires webrtc.java;
  requires io.netty.buffer;
  requires io.netty.codec;
  requires io.netty.codec.http;
  requires io.netty.common;
  requires io.netty.handler;
  requires io.netty.transport;

  exports dev.braid.transport.webrtc;

  provides dev.braid.spi.TransportProvider with dev.braid.transport.webrtc.WebRtcTransportProvider;
  provides dev.braid.spi.BenchBaseline with dev.braid.transport.webrtc.internal.bench.WebRtcJavaBaseline;
}
