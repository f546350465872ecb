package dev.braid.examples;

/** The examples' exit codes. */
final class Exit {
  /** Everything worked (and was verified). */
  static final int OK = 0;
  /** The transfer or a request failed: unreachable peer, reset, lost connection, verification failed. */
  static final int FAILED = 1;
  /** Bad input: a wrong command line, a missing file or directory, a URI no transport here understands. */
  static final int USAGE = 2;

  private Exit() {}
}
