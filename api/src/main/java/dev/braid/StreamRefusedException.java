package dev.braid;

/**
 * A stream was refused: our own stream limit was reached (from {@code openStream()}, {@link #isRemote()}
 * false), or the peer refused it (its stream limit, its accept backlog, or it is closing; {@link #isRemote()}
 * true). A refusal by the peer surfaces the same way on every transport: from {@code openStream()}'s future
 * where the protocol waits for the peer's answer, otherwise as the failure of the stream's reads and writes
 * (the stream ends {@link StreamState#RESET}), since some protocols (yamux) let data flow before the answer.
 * It is a reset with the reserved code {@link StreamResetException#REFUSED}.
 */
public final class StreamRefusedException extends StreamResetException {
  private static final long serialVersionUID = 1L;

  /** A refusal by our own limit. @param message why the stream was refused */
  public StreamRefusedException(String message) {
    this(message, false);
  }

  /**
   * @param message why the stream was refused
   * @param remote {@code true} if the peer refused it
   */
  public StreamRefusedException(String message, boolean remote) {
    super(message, REFUSED, remote);
  }

  @Override
  public StreamRefusedException copy() {
    return new StreamRefusedException(getMessage(), isRemote());
  }
}
