package dev.braid.examples;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Predicate;

/** What an example printed on one of its streams, captured; a test can wait (bounded) for a line. Thread-safe. */
final class Output extends OutputStream {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(); // guarded by this
  private final PrintStream print = new PrintStream(this, true, StandardCharsets.UTF_8);

  PrintStream printStream() {
    return print;
  }

  @Override
  public synchronized void write(int b) {
    bytes.write(b);
    notifyAll();
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) {
    bytes.write(b, off, len);
    notifyAll();
  }

  synchronized String text() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  /** The first complete line that {@code matches}, waiting for it at most {@code timeout}; empty if none came. */
  synchronized Optional<String> awaitLine(Predicate<String> matches, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String text = bytes.toString(StandardCharsets.UTF_8);
      int end = text.lastIndexOf('\n');
      if (end >= 0) {
        for (String line : text.substring(0, end).split("\n")) {
          if (matches.test(line)) {
            return Optional.of(line);
          }
        }
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return Optional.empty();
      }
      wait(Math.max(1, left / 1_000_000));
    }
  }
}
