package dev.braid;

/**
 * Optional abilities a transport may lack. The conformance kit skips, with the reason, the rules that
 * need a capability a transport does not declare.
 */
public enum Capability {
  /** closeRead tells the peer to stop sending (QUIC / WebRTC STOP_SENDING); without it inbound bytes are only discarded locally. */
  STOP_SENDING("the protocol cannot tell the peer that we stopped reading; inbound bytes are discarded locally"),
  /** reset(code) carries the code to the peer. */
  RESET_CODES("the protocol's reset carries no error code"),
  /** Streams pass through an observable OPENING state before they are usable. */
  OPENING_STATE("streams are usable as soon as they are created");

  private final String missingReason;

  Capability(String missingReason) {
    this.missingReason = missingReason;
  }

  /** Why a transport without this capability behaves as it does; used in skip reasons. */
  public String missingReason() {
    return missingReason;
  }
}
