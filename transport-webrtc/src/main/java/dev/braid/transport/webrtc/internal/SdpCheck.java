package dev.braid.transport.webrtc.internal;

/**
 * A cheap syntactic check of an SDP offer before it reaches libwebrtc: version line, an
 * {@code m=application ... webrtc-datachannel} section, ICE credentials and a DTLS fingerprint.
 *
 * <p><b>Thread safety.</b> Stateless.
 */
final class SdpCheck {
  private SdpCheck() {}

  /** Null when {@code sdp} looks like a data channel offer; otherwise what is wrong. */
  static String problemWithOffer(String sdp) {
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
