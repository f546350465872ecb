/**
 * What {@code braid bench} compares Braid's WebRTC transport with: webrtc-java used directly, without Braid,
 * registered as a {@link dev.braid.spi.BenchBaseline} service. Not exported.
 */
package dev.braid.transport.webrtc.internal.bench;
