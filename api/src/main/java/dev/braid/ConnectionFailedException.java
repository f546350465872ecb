package dev.braid;

/**
 * The connection under a stream ended before the stream did: it was closed (locally or by the peer),
 * lost, or failed on a protocol error. The cause says which.
 */
public class ConnectionFailedException extends BraidException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message what happened
   * @param cause what caused it, may be {@code null}
   */
  public ConnectionFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}
