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

  /** {@code sdp} with {@link #WINDOW_ATTRIBUTE} added after its {@code t=} line (session level). */
  public static String withWindow(String sdp, int window) {
    String nl = sdp.contains("\r\n") ? "\r\n" : "\n";
    int t = sdp.startsWith("t=") ? 0 : sdp.indexOf(nl + "t=");
    if (t < 0) {
      return sdp;
    }
    int eol = sdp.indexOf(nl, t + nl.length());
    if (eol < 0) {
      return sdp;
    }
    return sdp.substring(0, eol + nl.length()) + WINDOW_ATTRIBUTE + window + nl + sdp.substring(eol + nl.length());
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
