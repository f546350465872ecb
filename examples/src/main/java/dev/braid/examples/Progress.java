package dev.braid.examples;

import java.io.PrintStream;
import java.util.Locale;

/**
 * One progress line on standard error, rewritten in place ({@code \r}): bytes done, of how many, the percentage and
 * the rate. At most five updates a second. Not thread-safe: one transferring thread updates it.
 */
final class Progress {
  private static final long INTERVAL_NANOS = 200_000_000L;

  private final PrintStream err;
  private final String label;
  private final long total;
  private final boolean quiet;
  private final long start = System.nanoTime();
  private long lastPrint;
  private int lastWidth;

  Progress(PrintStream err, String label, long total, boolean quiet) {
    this.err = err;
    this.label = label;
    this.total = total;
    this.quiet = quiet;
  }

  /** Reports {@code done} bytes; prints if the last line is older than 200 ms. */
  void update(long done) {
    long now = System.nanoTime();
    if (!quiet && now - lastPrint >= INTERVAL_NANOS) {
      lastPrint = now;
      print(done, now);
    }
  }

  /** Prints the final line (with {@code done} bytes) and ends it. */
  void finish(long done) {
    if (!quiet) {
      print(done, System.nanoTime());
      err.println();
      lastWidth = 0;
    }
  }

  /** Ends a progress line left open, so that an error message starts on a line of its own. */
  void interrupt() {
    if (lastWidth > 0) {
      err.println();
      lastWidth = 0;
    }
  }

  /** Seconds since this progress started. */
  double seconds() {
    return (System.nanoTime() - start) / 1e9;
  }

  private void print(long done, long now) {
    double secs = Math.max(1e-9, (now - start) / 1e9);
    int percent = total == 0 ? 100 : (int) (done * 100 / total);
    String line = String.format(Locale.ROOT, "%s: %s of %s (%d%%), %s/s", label, size(done), size(total), percent,
        size((long) (done / secs)));
    StringBuilder b = new StringBuilder("\r").append(line);
    for (int i = line.length(); i < lastWidth; i++) {
      b.append(' ');
    }
    lastWidth = line.length();
    err.print(b);
    err.flush();
  }

  /** A byte count for people: {@code 512 B}, {@code 3.4 KiB}, {@code 48.0 MiB}, {@code 1.20 GiB}. */
  static String size(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    if (bytes < 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    }
    if (bytes < 1024L * 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
    }
    return String.format(Locale.ROOT, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
  }
}
