package dev.braid;

/** A write failed because the stream's write direction had ended; {@link #reason()} says how it ended. */
public final class WriteClosedException extends BraidException {
  private static final long serialVersionUID = 1L;

  /** How the write direction ended. */
  public enum Reason {
    /** We called {@link MuxedStream#closeWrite()} or {@link MuxedStream#close()}. */
    CLOSED_LOCALLY,
    /** The peer told us to stop sending (it called closeRead, sending STOP_SENDING). */
    STOPPED_BY_PEER
  }

  private final Reason reason;
  private final long code;

  /**
   * @param reason how the write direction ended
   * @param code the peer's STOP_SENDING error code, or 0 when {@code reason} is {@link Reason#CLOSED_LOCALLY}
   */
  public WriteClosedException(Reason reason, long code) {
    super(reason == Reason.CLOSED_LOCALLY
        ? "write after closeWrite(): the stream's write direction is closed"
        : "write after the peer stopped reading (STOP_SENDING, code " + code + ")");
    this.reason = reason;
    this.code = code;
  }

  /** How the write direction ended. */
  public Reason reason() {
    return reason;
  }

  /** The peer's STOP_SENDING code, or 0 if we closed the write direction ourselves. */
  public long code() {
    return code;
  }
}
