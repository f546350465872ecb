package dev.braid.transport.tcp.internal;

/**
 * Receive-window auto-tuning for one yamux session, as go-yamux does it: when a stream's application consumed a
 * whole update's worth of bytes in less than four round trips since the previous window update, the window is the
 * bottleneck, so the next update doubles it, up to {@code maxWindow}. The growth comes out of one budget per
 * connection: a stream that cannot get it keeps the window it has, and its growth returns to the budget when the
 * stream leaves the session. Nothing a peer was granted is ever taken back.
 *
 * <p>So every stream may buffer its guaranteed {@code baseWindow}, and all of them together at most
 * {@code budget} more: a connection whose reader stalls holds at most {@code streams × baseWindow + budget} bytes of
 * received data.
 *
 * <p>The round-trip time comes from yamux pings ({@link SessionShutdown}: one when the session starts, then every
 * keep-alive); without a measurement nothing grows.
 *
 * <p><b>Thread safety.</b> Changed on the event loop only; {@link #rttNanos()} and {@link #budgetLeft()} may be read
 * anywhere (volatile).
 */
final class WindowTuner {
  private final long baseWindow;
  private final long maxWindow;
  private final long budget;
  private volatile long budgetLeft; // written by the event loop only
  private volatile long rttNanos;

  /**
   * @param baseWindow the window every stream is guaranteed
   * @param maxWindow the largest window one stream may grow to; at or below {@code baseWindow}, nothing grows
   * @param budget how much all streams of the session may grow by together
   */
  WindowTuner(long baseWindow, long maxWindow, long budget) {
    this.baseWindow = baseWindow;
    this.maxWindow = Math.max(baseWindow, maxWindow);
    this.budget = budget;
    this.budgetLeft = budget;
  }

  /** Whether any stream may grow its window. */
  boolean enabled() {
    return maxWindow > baseWindow && budget > 0;
  }

  long baseWindow() {
    return baseWindow;
  }

  /** A round trip was measured. */
  void rtt(long nanos) {
    if (nanos > 0) {
      rttNanos = nanos;
    }
  }

  long rttNanos() {
    return rttNanos;
  }

  /** The budget not given to any stream now. */
  long budgetLeft() {
    return budgetLeft;
  }

  long budget() {
    return budget;
  }

  /**
   * A window update for a stream whose window is {@code window} and whose previous update went out at
   * {@code epochStart} is about to go out at {@code now}: how many bytes the window grows by (0 to keep it), taken
   * from the budget.
   */
  long growth(long window, long epochStart, long now) {
    long rtt = rttNanos;
    if (rtt <= 0 || window >= maxWindow || now - epochStart >= 4 * rtt) {
      return 0;
    }
    long grow = Math.min(window, maxWindow - window); // double, up to the maximum
    if (grow > budgetLeft) {
      return 0;
    }
    budgetLeft -= grow;
    return grow;
  }

  /** A stream that had grown its window by {@code grown} left the session. */
  void release(long grown) {
    budgetLeft += grown;
  }
}
