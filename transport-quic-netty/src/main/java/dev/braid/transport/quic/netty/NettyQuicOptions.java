package dev.braid.transport.quic.netty;

import dev.braid.OptionKey;

/**
 * The Netty QUIC transport's own settings, read through {@link dev.braid.TransportOptions#get(OptionKey)}. They carry
 * the same names and defaults as the kwik transport's ({@code dev.braid.transport.quic.QuicOptions}), so one set of
 * options configures whichever implementation {@code quic://} resolves to.
 *
 * <p><b>Thread safety.</b> Constants only.
 */
public final class NettyQuicOptions {
  /** The ALPN both ends offer and require (default {@code braid/1}: Braid's QUIC mapping 1, with the stream preamble). */
  public static final OptionKey<String> ALPN = OptionKey.string("quic.alpn", "braid/1");

  /**
   * Bytes the peer may send ahead on all streams of a connection together (QUIC initial_max_data). 0, the default,
   * means the larger of 16 MiB and four receive windows.
   */
  public static final OptionKey<Long> CONNECTION_WINDOW =
      OptionKey.longInteger("quic.connectionWindow", 0, 0, (1L << 62) - 1);

  private NettyQuicOptions() {}
}
