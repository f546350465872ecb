package dev.braid.conformance.reference;

/**
 * A deliberate defect the reference transport can be built with. The kit's self-tests run the whole kit
 * against each one and require every rule it names in {@link #caughtBy()} to fail: a kit that cannot tell
 * these transports from a correct one, or tells them apart only by accident, proves nothing.
 */
public enum Breakage {
  /** None: the reference behaviour. */
  NONE(),
  /** closeWrite sends FIN at once, ahead of bytes still waiting for window: the peer sees EOF before all data. */
  EOF_BEFORE_DATA("H1", "D2", "H8"),
  /**
   * Now and then (one stream in 16, and only from the 200th stream of a connection on) the FIN takes a fast
   * lane past data frames still queued for the peer: the peer sees end-of-stream early and drops the bytes
   * that arrive after it. TCP's transport had this defect (a FIN written inline by the event loop overtook
   * data queued by an application thread); rules with a few streams per connection, such as H1, never see it.
   */
  FIN_OVERTAKES_QUEUED_DATA("H8"),
  /**
   * The FIN is sent a moment after closeWrite, and dropped if reset() was called on the stream meanwhile, even
   * when that reset was a no-op because the stream had already ended (closeWrite and closeRead won the race):
   * the peer then never hears of the end. The QUIC transport had this defect; only a race of closes and resets
   * shows it.
   */
  FIN_LOST_WHEN_RESET_RACES("R1"),
  /**
   * A reset after the FIN was sent never reaches the peer (as kwik's resetStream is a no-op after FIN): the peer
   * sees a clean end of stream and never learns of the reset.
   */
  RESET_AFTER_FIN_NOT_SENT("R2"),
  /** closeWrite never sends its FIN: the peer waits for end-of-stream for ever (a hang wherever a rule reads to EOF). */
  FIN_DROPPED("H1", "E3"),
  /**
   * Now and then (one stream in 8) a FIN is dropped when this end has sent data and the peer's FIN has arrived: a
   * responder that half-closes after its answer never ends it (as quiche before cloudflare/quiche#2665 frees a stream
   * whose data was acknowledged while its FIN waited to be sent).
   */
  FIN_DROPPED_AFTER_ANSWER("H9"),
  /** A refusal by the peer is handed out as a stream that is then reset with code 0: a plain reset, not a refusal. */
  REFUSAL_AS_PLAIN_RESET("N8"),
  /**
   * The kit's silent kill lets an abort frame out before the end vanishes: the survivor learns of the kill from
   * the peer instead of through its own timers, so the kill rules test a polite close, not a vanished peer.
   */
  KILL_LEAKS_CLOSE("N2", "N5"),
  /** The stream's listeners miss the transition into READ_CLOSED. */
  LOST_LISTENER_EVENT("L2"),
  /** reset(code) reaches the peer with code 0. */
  RESET_CODE_DROPPED("C2", "C3"),
  /** A write after closeWrite reports success (and the bytes go nowhere). */
  WRITE_ALLOWED_AFTER_CLOSE_WRITE("H3"),
  /** write checks the state, then sends outside the lock: a write racing closeWrite can land after FIN and be lost. */
  STATE_CHECKED_OUTSIDE_LOCK("L4"),
  /** Flow control ignored: writes complete at once and the receiver buffers without bound. */
  UNBOUNDED_BUFFERING("B1"),
  /** Closing a connection does not end the streams on the peer's side. */
  CLOSE_NOT_PROPAGATED("N1"),
  /** A peer's reset arrives as a graceful FIN. */
  RESET_AS_FIN("C2", "C3"),
  /**
   * Bytes are delivered while holding the stream object's monitor: an application that synchronizes on its
   * stream stalls the connection's delivery (a transport that uses {@code synchronized (this)} on its streams).
   */
  LOCKS_THE_STREAM_OBJECT("T2"),
  /** A graceful close reaches the peer as an abort: the peer's connection fails (as a TCP reset would make it). */
  CLOSE_SEEN_AS_CRASH("N6");

  private final java.util.Set<String> caughtBy;

  Breakage(String... caughtBy) {
    this.caughtBy = java.util.Set.of(caughtBy);
  }

  /**
   * The ids of the rules that exist to catch this defect: each must fail against it (the kit's self-test checks
   * that, so a breakage caught only by a timeout in some other rule does not count as caught). Empty for
   * {@link #NONE}.
   */
  public java.util.Set<String> caughtBy() {
    return caughtBy;
  }
}
