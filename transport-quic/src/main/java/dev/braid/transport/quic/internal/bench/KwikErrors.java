package dev.braid.transport.quic.internal.bench;

import tech.kwik.core.log.NullLogger;

/**
 * kwik's logger for the baseline: silent but for the errors kwik reports with a cause (its fatal faults, e.g.
 * "Sender thread aborted with exception"), which go to {@link System.Logger} at WARNING: a baseline measurement that
 * fails must say why, not only that it failed.
 */
final class KwikErrors extends NullLogger {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic.bench");
  private final String side;

  KwikErrors(String side) {
    this.side = side;
  }

  @Override
  public void error(String message, Throwable error) {
    LOG.log(System.Logger.Level.WARNING, "kwik baseline " + side + ": kwik error: " + message, error);
  }
}
