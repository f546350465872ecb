package dev.braid.conformance;

/** Which end of a {@link ConnectionPair} opens the stream under test: every rule runs from both. */
public enum Side {
  /** The dialer opens, the listener accepts. */
  DIALER,
  /** The listener opens, the dialer accepts. */
  LISTENER
}
