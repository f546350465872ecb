/**
 * What {@code braid bench} compares Braid's WebRTC transport with: webrtc-java used directly, without Braid, found by
 * {@link java.util.ServiceLoader} as a {@link dev.braid.spi.BenchBaseline}. (kwik's, for QUIC, is in the QUIC
 * transport's module.)
 */
package dev.braid.cli.baseline;
