package dev.braid;

/**
 * The stream was aborted with an error code, locally by {@link MuxedStream#reset(long)} or by the peer.
 * Reads and writes on a reset stream fail with this same type, carrying the same code and origin.
 *
 * <p><b>Codes.</b> Application codes are 0 to {@link #MAX_APPLICATION_CODE}. Braid reserves the codes above
 * it for what the transports themselves say on the wire, the same on every transport: {@link #REFUSED} (the
 * peer refused the stream; it surfaces as {@link StreamRefusedException}, a subtype of this one) and
 * {@link #INTERNAL_ERROR} (the peer's transport hit an unexpected error on this stream). A reserved code never
 * surfaces as an application's: {@code reset(code)} rejects them.
 */
public class StreamResetException extends BraidException {
  private static final long serialVersionUID = 1L;
  /** The largest code an application may reset a stream with: 2<sup>32</sup>-257. */
  public static final long MAX_APPLICATION_CODE = 0xFFFF_FEFFL;
  /** Reserved: the peer refused the stream (its stream limit, its accept backlog, or it is closing). */
  public static final long REFUSED = 0xFFFF_FFFEL;
  /** Reserved: the peer's transport hit an unexpected error on this stream. */
  public static final long INTERNAL_ERROR = 0xFFFF_FFFDL;

  private final long code;
  private final boolean remote;

  /**
   * @param code the error code carried by the reset
   * @param remote {@code true} if the peer reset the stream, {@code false} if we did
   */
  public StreamResetException(long code, boolean remote) {
    this("stream reset " + (remote ? "by the peer" : "locally") + " with code " + describe(code), code, remote);
  }

  /**
   * For subtypes with a message of their own.
   *
   * @param message what happened
   * @param code the error code carried by the reset
   * @param remote whether the peer did it
   */
  protected StreamResetException(String message, long code, boolean remote) {
    super(message);
    this.code = code;
    this.remote = remote;
  }

  /** The error code of the reset: an application's, or one of the reserved codes. */
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

  /** Whether {@code code} is one Braid reserves for itself (above {@link #MAX_APPLICATION_CODE}). */
  public static boolean isReserved(long code) {
    return code > MAX_APPLICATION_CODE;
  }

  private static String describe(long code) {
    if (code == REFUSED) {
      return code + " (reserved: refused)";
    }
    if (code == INTERNAL_ERROR) {
      return code + " (reserved: internal error)";
    }
    return isReserved(code) ? code + " (reserved)" : Long.toString(code);
  }
}
