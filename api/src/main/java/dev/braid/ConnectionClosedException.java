package dev.braid;

/** The connection was closed on purpose, by us or by the peer, while the operation or stream was still live. */
public final class ConnectionClosedException extends ConnectionFailedException {
  private static final long serialVersionUID = 1L;
  private final boolean remote;

  /**
   * @param message what happened
   * @param remote whether the peer closed the connection
   */
  public ConnectionClosedException(String message, boolean remote) {
    super(message, null);
    this.remote = remote;
  }

  /** Whether the peer closed the connection ({@code false}: we did). */
  public boolean isRemote() {
    return remote;
  }
}
