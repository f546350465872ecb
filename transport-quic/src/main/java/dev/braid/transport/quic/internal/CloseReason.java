package dev.braid.transport.quic.internal;

import dev.braid.ConnectionFailedException;
import dev.braid.ConnectionTimedOutException;
import dev.braid.ProtocolException;
import java.time.Duration;
import tech.kwik.core.ConnectionTerminatedEvent;
import tech.kwik.core.QuicConstants;

/**
 * Why kwik ended a connection, as the cause Braid's streams and close future fail with (null for a graceful close).
 *
 * <p><b>Thread safety.</b> Stateless.
 */
final class CloseReason {
  private CloseReason() {}

  /**
   * The cause for {@code e}. kwik's idle timer closes the connection silently (RFC 9000 §10.1) once nothing was
   * received for the idle timeout (the smaller of both ends' max_idle_timeout, at least 3 PTO, checked once a second).
   * It calls that ConnectionLost when our own last packets went unanswered (tail loss), IdleTimeout otherwise: both are
   * the survivor's view of a peer that vanished without a word, so both are {@link ConnectionTimedOutException}.
   */
  static Throwable of(ConnectionTerminatedEvent e, Duration idleTimeout) {
    long idle = idleTimeout.toMillis();
    return switch (e.closeReason()) {
      case IdleTimeout -> new ConnectionTimedOutException("QUIC idle timeout: nothing received from the peer for "
          + idle + " ms (kwik closed the connection silently; a vanished peer or a stalled sender ends this way)", null);
      case ConnectionLost -> new ConnectionTimedOutException("QUIC connection lost: nothing received from the peer for "
          + idle + " ms while our last packets went unacknowledged (idle timeout with tail loss; kwik closed the "
          + "connection silently)", null);
      case StatelessReset -> new ConnectionFailedException("QUIC stateless reset from the peer: it has no state for "
          + "this connection", null);
      default -> describeClose(e);
    };
  }

  /** A CONNECTION_CLOSE: null with NO_ERROR, else a {@link ProtocolException} naming the transport error, or the code. */
  private static Throwable describeClose(ConnectionTerminatedEvent e) {
    if (!e.hasError()) {
      return null; // graceful CONNECTION_CLOSE with NO_ERROR
    }
    String who = e.closedByPeer() ? "the peer closed the QUIC connection" : "kwik closed the QUIC connection";
    String reason = e.errorDescription() == null || e.errorDescription().isEmpty() ? "" : ": " + e.errorDescription();
    if (e.hasTransportError()) {
      long code = e.transportErrorCode();
      if (code == 0) {
        return null;
      }
      String name;
      try {
        QuicConstants.TransportErrorCode known = QuicConstants.TransportErrorCode.fromValue(code);
        name = known == null ? "transport error" : known.name();
      } catch (RuntimeException unknown) {
        name = "transport error"; // a code kwik has no name for
      }
      return new ProtocolException(who + " with " + name + " (0x" + Long.toHexString(code) + ")" + reason);
    }
    long code = e.applicationErrorCode() == null ? -1 : e.applicationErrorCode();
    if (code == 0 && e.closedByPeer()) {
      return null;
    }
    return new ConnectionFailedException(who + " with application error code " + code + reason, null);
  }
}
