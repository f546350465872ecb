package dev.braid;

/**
 * The stream was aborted with an error code, locally by {@link MuxedStream#reset(long)} or by the peer.
 * Reads and writes on a reset stream fail with this same type, carrying the same code and origin.
 */
public final class StreamResetException extends BraidException {
  private static final long serialVersionUID = 1L;
  private final long code;
  private final boolean remote;

  /**
   * @param code the application error code carried by the reset
   * @param remote {@code true} if the peer reset the stream, {@code false} if we did
   */
  public StreamResetException(long code, boolean remote) {
    super("stream reset " + (remote ? "by the peer" : "locally") + " with code " + code);
    this.code = code;
    this.remote = remote;
  }

  /** The application error code of the reset. */
  public long code() {
    return code;
  }

  /** Whether the peer reset the stream ({@code false}: we did). */
  public boolean isRemote() {
    return remote;
  }

  /** A fresh copy, so that every failed operation gets its own stack trace. */
  public StreamResetException copy() {
    return new StreamResetException(code, remote);
  }
}
