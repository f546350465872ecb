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
  /** The ALPN both ends offer and require (default {@code braid}). */
  public static final OptionKey<String> ALPN = OptionKey.string("quic.alpn", "braid");

  /**
   * Bytes the peer may send ahead on all streams of a connection together (QUIC MAX_DATA, kwik's
   * {@code maxConnectionBufferSize}). 0, the default, means the larger of 16 MiB and four receive windows.
   */
  public static final OptionKey<Long> CONNECTION_WINDOW =
      OptionKey.longInteger("quic.connectionWindow", 0, 0, (1L << 62) - 1);

  private QuicOptions() {}
}
