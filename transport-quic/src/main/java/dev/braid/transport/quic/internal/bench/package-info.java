/**
 * What {@code braid bench} compares Braid's QUIC transport with: kwik used directly, without Braid
 * ({@link dev.braid.transport.quic.internal.bench.KwikBaseline}, a {@link dev.braid.spi.BenchBaseline} service). Not
 * exported.
 */
package dev.braid.transport.quic.internal.bench;
