package dev.braid;

/**
 * No usable transport for a request: an unknown URI scheme, or a transport that is present but cannot
 * run here. The message lists what is available or why the transport is not.
 */
public final class TransportUnavailableException extends BraidException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message what was asked for and what is available instead
   * @param cause why the transport cannot run, may be {@code null}
   */
  public TransportUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
