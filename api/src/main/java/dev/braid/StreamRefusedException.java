package dev.braid;

/** Opening a stream failed: the peer refused it, or a local or remote stream limit was reached. */
public final class StreamRefusedException extends BraidException {
  private static final long serialVersionUID = 1L;

  /** @param message why the stream was refused */
  public StreamRefusedException(String message) {
    super(message);
  }
}
