package dev.braid.transport.webrtc.internal;

import dev.braid.Listener;
import dev.braid.Transport;

/** Reads the WebRTC transport's internal state for tests in other packages (tests run on the class path). */
public final class WebRtcProbe {
  private WebRtcProbe() {}

  /** Connections the transport holds: dialed, accepted, waiting for accept or in their handshake. */
  public static int connections(Transport t) {
    return ((WebRtcTransport) t).connectionCount();
  }

  /** Handshakes in flight at the listener. */
  public static int handshakes(Listener l) {
    return ((WebRtcListener) l).handshakes();
  }

  /** Established connections waiting for {@code accept()} at the listener. */
  public static int waitingForAccept(Listener l) {
    return ((WebRtcListener) l).waitingForAccept();
  }
}
