package dev.braid.transport.webrtc;

import dev.braid.OptionKey;
import java.util.Optional;

/**
 * The WebRTC transport's own settings, as typed {@link OptionKey}s: set them with
 * {@code TransportOptions.builder().property(WebRtcOptions.BEARER_TOKEN.name(), "...")}. Every value is parsed when
 * the transport is created, and a bad one fails there with the option's name, what it expects and the value.
 */
public final class WebRtcOptions {
  private WebRtcOptions() {}

  /** {@code webrtc.bearerToken}: the listener requires {@code Authorization: Bearer <token>}; the dialer sends it. */
  public static final OptionKey<Optional<String>> BEARER_TOKEN = OptionKey.optionalString("webrtc.bearerToken");

  /** {@code webrtc.signalingPath}: the HTTP path of the signaling endpoint (default {@code /braid}). */
  public static final OptionKey<String> SIGNALING_PATH = OptionKey.string("webrtc.signalingPath", "/braid");

  /** {@code webrtc.maxSdpBytes}: the largest offer the listener accepts, 1 to 1 MiB (default 64 KiB). */
  public static final OptionKey<Integer> MAX_SDP_BYTES = OptionKey.integer("webrtc.maxSdpBytes", 64 * 1024, 1,
      1024 * 1024);

  /** {@code webrtc.corsAllowOrigin}: answer CORS preflights with this origin (browser pages served elsewhere). */
  public static final OptionKey<Optional<String>> CORS_ALLOW_ORIGIN = OptionKey.optionalString("webrtc.corsAllowOrigin");

  /**
   * {@code webrtc.maxReceiveBuffer}: unread bytes per stream from a peer without Braid's flow control, 1 byte to
   * 1 GiB (default 16 MiB).
   */
  public static final OptionKey<Integer> MAX_RECEIVE_BUFFER = OptionKey.integer("webrtc.maxReceiveBuffer",
      16 * 1024 * 1024, 1, 1 << 30);
}
