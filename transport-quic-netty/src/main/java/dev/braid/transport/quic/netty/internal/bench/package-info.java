/**
 * What {@code braid bench} compares Braid's Netty QUIC transport with: Netty's QUIC codec used directly, without Braid
 * ({@link dev.braid.transport.quic.netty.internal.bench.NettyQuicBaseline}, a {@link dev.braid.spi.BenchBaseline}
 * service). Not exported.
 */
package dev.braid.transport.quic.netty.internal.bench;
