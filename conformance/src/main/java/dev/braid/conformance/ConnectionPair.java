package dev.braid.conformance;

import dev.braid.Connection;
import java.util.Objects;

/**
 * Two ends of one live connection: the side that dialed and the side that accepted it.
 *
 * @param dialer the connection as the dialing side sees it
 * @param listener the same connection as the listening side sees it
 */
public record ConnectionPair(Connection dialer, Connection listener) {
  /** Checks that both ends are present. */
  public ConnectionPair {
    Objects.requireNonNull(dialer, "dialer");
    Objects.requireNonNull(listener, "listener");
  }

  /** The end that opens streams when a test runs from {@code side}. */
  public Connection opener(Side side) {
    return side == Side.DIALER ? dialer : listener;
  }

  /** The other end. */
  public Connection acceptor(Side side) {
    return side == Side.DIALER ? listener : dialer;
  }
}
