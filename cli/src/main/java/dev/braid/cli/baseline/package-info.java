/**
 * What {@code braid bench} compares Braid's QUIC and WebRTC transports with: kwik and webrtc-java used
 * directly, without Braid, found by {@link java.util.ServiceLoader} as {@link dev.braid.spi.BenchBaseline}s.
 */
package dev.braid.cli.baseline;
