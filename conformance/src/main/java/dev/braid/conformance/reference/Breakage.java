package dev.braid.conformance.reference;

/**
 * A deliberate defect the reference transport can be built with. The kit's self-tests run the whole kit
 * against each one and require at least one rule to fail: a kit that cannot tell these transports from
 * a correct one proves nothing.
 */
public enum Breakage {
  /** None: the reference behaviour. */
  NONE,
  /** closeWrite sends FIN at once, ahead of bytes still waiting for window: the peer sees EOF before all data. */
  EOF_BEFORE_DATA,
  /**
   * Now and then (one stream in 16, and only from the 200th stream of a connection on) the FIN takes a fast
   * lane past data frames still queued for the peer: the peer sees end-of-stream early and drops the bytes
   * that arrive after it. TCP's transport had this defect (a FIN written inline by the event loop overtook
   * data queued by an application thread); rules with a few streams per connection, such as H1, never see it.
   */
  FIN_OVERTAKES_QUEUED_DATA,
  /** The stream's listeners miss the transition into READ_CLOSED. */
  LOST_LISTENER_EVENT,
  /** reset(code) reaches the peer with code 0. */
  RESET_CODE_DROPPED,
  /** A write after closeWrite reports success (and the bytes go nowhere). */
  WRITE_ALLOWED_AFTER_CLOSE_WRITE,
  /** write checks the state, then sends outside the lock: a write racing closeWrite can land after FIN and be lost. */
  STATE_CHECKED_OUTSIDE_LOCK,
  /** Flow control ignored: writes complete at once and the receiver buffers without bound. */
  UNBOUNDED_BUFFERING,
  /** Closing a connection does not end the streams on the peer's side. */
  CLOSE_NOT_PROPAGATED,
  /** A peer's reset arrives as a graceful FIN. */
  RESET_AS_FIN,
  /** A graceful close reaches the peer as an abort: the peer's connection fails (as a TCP reset would make it). */
  CLOSE_SEEN_AS_CRASH
}
