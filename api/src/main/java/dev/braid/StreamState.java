package dev.braid;

/**
 * The one lifecycle every {@link MuxedStream} follows, whatever the transport below it.
 *
 * <p>States only move forward: {@code OPENING → OPEN → READ_CLOSED | WRITE_CLOSED → CLOSED}, and any
 * non-terminal state may move to {@code RESET} or {@code FAILED}. A transition may skip states that
 * lie between (e.g. {@code OPEN → CLOSED} when {@link MuxedStream#close()} ends both directions at
 * once), but never goes back and never leaves a terminal state. See {@code SPEC.md}, rules L1–L4.
 */
public enum StreamState {
  /** Requested locally, not yet usable (e.g. a data channel still connecting). Reads wait; writes queue. */
  OPENING(0),
  /** Both directions open. */
  OPEN(1),
  /**
   * No more bytes will arrive: the peer half-closed (FIN) or we called {@link MuxedStream#closeRead()}.
   * Bytes already received stay readable, then reads return end-of-stream. Writes still work.
   */
  READ_CLOSED(2),
  /**
   * We half-closed ({@link MuxedStream#closeWrite()}: FIN is sent after every queued byte), or the
   * peer told us to stop sending. Reads still work; writes fail with {@link WriteClosedException}.
   */
  WRITE_CLOSED(2),
  /** Both directions ended gracefully. Terminal. Reads return what had arrived, then end-of-stream; writes fail. */
  CLOSED(3),
  /** Aborted, locally or by the peer, with an error code. Terminal. Reads and writes fail with {@link StreamResetException}. */
  RESET(3),
  /** The connection under the stream died, or the transport hit an unexpected error. Terminal. Reads and writes fail with {@link ConnectionFailedException}. */
  FAILED(3);

  private final int rank;

  StreamState(int rank) {
    this.rank = rank;
  }

  /** Whether this state is final: {@link #CLOSED}, {@link #RESET} or {@link #FAILED}. */
  public boolean isTerminal() {
    return rank == 3;
  }

  /** Whether no more bytes will arrive from the peer in this state (reads drain, then end). */
  public boolean isReadClosed() {
    return this == READ_CLOSED || isTerminal();
  }

  /** Whether writes fail in this state. */
  public boolean isWriteClosed() {
    return this == WRITE_CLOSED || isTerminal();
  }

  /**
   * Whether the lifecycle allows moving from this state to {@code next}: strictly forward, never out
   * of a terminal state, and never sideways between {@link #READ_CLOSED} and {@link #WRITE_CLOSED}.
   */
  public boolean canTransitionTo(StreamState next) {
    return !isTerminal() && next.rank > rank;
  }
}
