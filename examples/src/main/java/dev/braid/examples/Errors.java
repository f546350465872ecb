package dev.braid.examples;

import dev.braid.ConnectionFailedException;
import dev.braid.StreamResetException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.LongFunction;

/** Turns the exceptions of a failed operation into one line a user can act on. */
final class Errors {
  private Errors() {}

  /** {@code t} without the {@link ExecutionException} / {@link CompletionException} wrappers of futures. */
  static Throwable unwrap(Throwable t) {
    Throwable e = t;
    while ((e instanceof ExecutionException || e instanceof CompletionException) && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  /** {@link #describe(Throwable, LongFunction)} without names for reset codes. */
  static String describe(Throwable t) {
    return describe(t, code -> null);
  }

  /**
   * One line: for a reset, who reset the stream and its code (with {@code codeNames}' name for it, if any); for a
   * lost connection, why; otherwise the message, followed by its causes' messages.
   */
  static String describe(Throwable t, LongFunction<String> codeNames) {
    Throwable e = unwrap(t);
    if (e instanceof StreamResetException) {
      StreamResetException r = (StreamResetException) e;
      String name = codeNames.apply(r.code());
      return (r.isRemote() ? "the peer reset the stream" : "the stream was reset here")
          + " (code " + r.code() + (name == null ? "" : ": " + name) + ")";
    }
    StringBuilder line = new StringBuilder(e instanceof ConnectionFailedException ? "connection lost: " : "");
    line.append(message(e));
    Throwable c = e.getCause();
    for (int depth = 0; c != null && depth < 5; depth++, c = c.getCause()) {
      String m = message(c);
      if (line.indexOf(m) < 0) {
        line.append(" (").append(m).append(')');
      }
    }
    return line.toString();
  }

  /** Why dialing {@code address} failed, in one line that names the address once: {@code cannot connect to URI: why}. */
  static String dialFailure(java.net.URI address, Throwable t) {
    Throwable e = unwrap(t);
    String prefix = "cannot connect to " + address;
    String why = e instanceof ConnectionFailedException ? describe(e).substring("connection lost: ".length()) : describe(e);
    while (why.startsWith(prefix + ": ")) {
      why = why.substring(prefix.length() + 2);
    }
    return prefix + ": " + why;
  }

  private static String message(Throwable e) {
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }
}
