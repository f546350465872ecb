package dev.braid.transport.quic;

import dev.braid.OptionKey;
import dev.braid.TransportOptions;

/**
 * The QUIC transport's own settings, as {@linkplain TransportOptions#properties() properties} read through
 * {@link TransportOptions#get(OptionKey)}; a bad value fails {@code create(options)} with the key's message
 * ({@code option quic.connectionWindow must be an integer from 0 to 4611686018427387903, was "lots"}). The
 * listener's keystore is the shared {@link TransportOptions#TLS_KEY_STORE}, {@link TransportOptions#TLS_KEY_STORE_PASSWORD}
 * and {@link TransportOptions#TLS_KEY_ALIAS}.
 *
 * <p><b>Thread safety.</b> Constants only.
 */
public final class QuicOptions {
  /**
   * The ALPN both ends offer and require (default {@code braid/1}). It names the stream mapping: {@code braid/1} is
   * Braid's QUIC mapping 1, in which the opener's first byte on every stream is the preamble 0x00 (README, "Stream
   * preamble"). Ends of the earlier mapping (ALPN {@code braid}: a zero-length STREAM frame announced a stream, no
   * preamble) therefore fail the handshake with a current end instead of taking its preamble for application data.
   */
  public static final OptionKey<String> ALPN = OptionKey.string("quic.alpn", "braid/1");

  /**
   * Bytes the peer may send ahead on all streams of a connection together (QUIC MAX_DATA, kwik's
   * {@code maxConnectionBufferSize}). 0, the default, means the larger of 16 MiB and four receive windows.
   */
  public static final OptionKey<Long> CONNECTION_WINDOW =
      OptionKey.longInteger("quic.connectionWindow", 0, 0, (1L << 62) - 1);

  private QuicOptions() {}
}
