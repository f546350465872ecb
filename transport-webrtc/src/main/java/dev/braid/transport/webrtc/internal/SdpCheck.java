package dev.braid.transport.webrtc.internal;

/**
 * A cheap syntactic check of an SDP offer before it reaches libwebrtc: version line, an
 * {@code m=application ... webrtc-datachannel} section, ICE credentials and a DTLS fingerprint.
 *
 * <p><b>Thread safety.</b> Stateless.
 */
public final class SdpCheck {
  private SdpCheck() {}

  /** The session-level attribute by which Braid peers announce their per-stream receive window. */
  public static final String WINDOW_ATTRIBUTE = "a=x-braid-window:";

  /**
   * The session-level attribute by which Braid peers announce that they speak the keep-alive of the control channel
   * (answer a PING with a PONG); its value is the version, 1.
   */
  public static final String KEEPALIVE_ATTRIBUTE = "a=x-braid-keepalive:";

  /** {@code sdp} with {@link #WINDOW_ATTRIBUTE} added after its {@code t=} line (session level). */
  public static String withWindow(String sdp, int window) {
    return withSessionAttribute(sdp, WINDOW_ATTRIBUTE + window);
  }

  /** {@code sdp} with {@link #KEEPALIVE_ATTRIBUTE} (version 1) added after its {@code t=} line (session level). */
  public static String withKeepAlive(String sdp) {
    return withSessionAttribute(sdp, KEEPALIVE_ATTRIBUTE + "1");
  }

  /** Whether the peer announced Braid's keep-alive (version 1 or later) in {@code sdp}. */
  public static boolean keepAlive(String sdp) {
    for (String line : sdp.split("\r?\n")) {
      if (line.startsWith(KEEPALIVE_ATTRIBUTE)) {
        try {
          return Integer.parseInt(line.substring(KEEPALIVE_ATTRIBUTE.length()).trim()) >= 1;
        } catch (NumberFormatException e) {
          return false;
        }
      }
    }
    return false;
  }

  private static String withSessionAttribute(String sdp, String attribute) {
    String nl = sdp.contains("\r\n") ? "\r\n" : "\n";
    int t = sdp.startsWith("t=") ? 0 : sdp.indexOf(nl + "t=");
    if (t < 0) {
      return sdp;
    }
    int eol = sdp.indexOf(nl, t + nl.length());
    if (eol < 0) {
      return sdp;
    }
    return sdp.substring(0, eol + nl.length()) + attribute + nl + sdp.substring(eol + nl.length());
  }

  /** The peer's announced receive window, or -1 when it announced none (not a Braid peer, e.g. a browser). */
  public static long window(String sdp) {
    for (String line : sdp.split("\r?\n")) {
      if (line.startsWith(WINDOW_ATTRIBUTE)) {
        try {
          long w = Long.parseLong(line.substring(WINDOW_ATTRIBUTE.length()).trim());
          return w >= 1024 && w <= 0xFFFF_FFFFL ? w : -1;
        } catch (NumberFormatException e) {
          return -1;
        }
      }
    }
    return -1;
  }

  /** Null when {@code sdp} looks like a data channel offer; otherwise what is wrong. */
  public static String problemWithOffer(String sdp) {
    if (sdp.isEmpty()) {
      return "the body is empty";
    }
    if (!sdp.startsWith("v=0")) {
      return "it does not start with the SDP version line v=0";
    }
    boolean application = false;
    boolean ufrag = false;
    boolean fingerprint = false;
    for (String line : sdp.split("\r?\n")) {
      if (line.indexOf('\0') >= 0) {
        return "it contains a NUL character";
      }
      if (line.startsWith("m=application ") && line.contains("webrtc-datachannel")) {
        application = true;
      } else if (line.startsWith("a=ice-ufrag:")) {
        ufrag = true;
      } else if (line.startsWith("a=fingerprint:")) {
        fingerprint = true;
      }
    }
    if (!application) {
      return "no m=application ... webrtc-datachannel section";
    }
    if (!ufrag) {
      return "no a=ice-ufrag line";
    }
    if (!fingerprint) {
      return "no a=fingerprint line (DTLS is required)";
    }
    return null;
  }
}
