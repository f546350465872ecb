package dev.braid;

/** The peer broke the wire protocol (a malformed frame, an exceeded limit); the message names the fault. */
public final class ProtocolException extends ConnectionFailedException {
  private static final long serialVersionUID = 1L;

  /** @param message the fault, e.g. "yamux: unknown frame type 7" */
  public ProtocolException(String message) {
    super(message, null);
  }

  /**
   * @param message the fault
   * @param cause the underlying error
   */
  public ProtocolException(String message, Throwable cause) {
    super(message, cause);
  }
}
