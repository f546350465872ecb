package dev.braid.examples;

import dev.braid.MuxedStream;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Resets a stream on which no byte moved, in either direction, for a whole idle timeout: a blocked read or write then
 * fails with a local reset instead of waiting forever for a peer that stopped. (A dead connection is caught by the
 * transport's own idle timeout; this catches a live peer that stopped reading or sending.) Thread-safe.
 */
final class Watchdog implements AutoCloseable {
  private final MuxedStream stream;
  private final long idleNanos;
  private final long code;
  private final ScheduledExecutorService timer;
  private long lastCount = -1; // only touched by the timer thread
  private long lastChange;     // only touched by the timer thread
  private volatile boolean fired;

  private Watchdog(MuxedStream stream, Duration idle, long code) {
    this.stream = stream;
    this.idleNanos = idle.toNanos();
    this.code = code;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "braid-example-watchdog");
      t.setDaemon(true);
      return t;
    });
  }

  /** Starts watching {@code stream}; {@link #close()} stops. */
  static Watchdog start(MuxedStream stream, Duration idle, long code) {
    Watchdog w = new Watchdog(stream, idle, code);
    long period = Math.max(50, Math.min(1000, idle.toMillis() / 4));
    w.timer.scheduleWithFixedDelay(w::check, period, period, TimeUnit.MILLISECONDS);
    return w;
  }

  /** Whether this watchdog reset the stream. */
  boolean fired() {
    return fired;
  }

  private void check() {
    long count = stream.bytesRead() + stream.bytesWritten();
    long now = System.nanoTime();
    if (count != lastCount) {
      lastCount = count;
      lastChange = now;
    } else if (now - lastChange >= idleNanos && !fired) {
      fired = true;
      stream.reset(code);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
