package dev.braid.examples;

/** A command line the example cannot run: the message says what is wrong; the exit code is {@link Exit#USAGE}. */
final class UsageException extends Exception {
  UsageException(String message) {
    super(message);
  }
}
