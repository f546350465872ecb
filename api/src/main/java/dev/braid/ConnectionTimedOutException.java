package dev.braid;

/**
 * The connection was lost without a word from the peer: nothing arrived within the idle timeout, keep-alives
 * went unanswered, or (WebRTC) ICE consent expired. This is how the survivor of a peer that vanished (a crash,
 * a pulled cable, a path that drops everything) learns of it: only through its own timers
 * ({@link TransportOptions#idleTimeout()}, {@link TransportOptions#keepAliveInterval()}).
 */
public class ConnectionTimedOutException extends ConnectionFailedException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message what timed out
   * @param cause what caused it, may be {@code null}
   */
  public ConnectionTimedOutException(String message, Throwable cause) {
    super(message, cause);
  }
}
